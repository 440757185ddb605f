using System.Buffers.Binary;
using System.Text;

namespace Inference.Tests.Safetensors;

/// <summary>Writes hand-made, possibly broken, safetensors files byte by byte.</summary>
internal static class RawSafetensors
{
    public static void Write(string path, string headerJson, int dataBytes) =>
        Write(path, Encoding.UTF8.GetBytes(headerJson), dataBytes);

    public static void Write(string path, byte[] header, int dataBytes, ulong? declaredHeaderLength = null)
    {
        using var s = File.Create(path);
        Span<byte> prefix = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, declaredHeaderLength ?? (ulong)header.Length);
        s.Write(prefix);
        s.Write(header);
        for (int i = 0; i < dataBytes; i++)
            s.WriteByte((byte)i);
    }
}
