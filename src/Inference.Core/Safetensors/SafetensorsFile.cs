using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;
using Microsoft.Win32.SafeHandles;

namespace Inference.Safetensors;

/// <summary>One safetensors file, mapped read-only; tensor views point straight into the mapping.</summary>
public sealed unsafe class SafetensorsFile : IDisposable
{
    private readonly MemoryMappedFile _map;
    private readonly MemoryMappedViewAccessor _accessor;
    private readonly SafeMemoryMappedViewHandle _handle;
    private byte* _base;

    public string Path { get; }

    public IReadOnlyDictionary<string, TensorInfo> Tensors { get; }

    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Size of the mapping, which is the whole file.</summary>
    public long MappedBytes { get; }

    private SafetensorsFile(string path, SafetensorsHeader header, MemoryMappedFile map, MemoryMappedViewAccessor accessor, long length)
    {
        Path = path;
        Tensors = header.Tensors;
        Metadata = header.Metadata;
        MappedBytes = length;
        _map = map;
        _accessor = accessor;
        _handle = accessor.SafeMemoryMappedViewHandle;
        byte* p = null;
        _handle.AcquirePointer(ref p);
        _base = p + accessor.PointerOffset;
    }

    /// <summary>Validates the header and maps the file; throws <see cref="ModelFormatException"/> with nothing left open if the file is bad.</summary>
    public static SafetensorsFile Open(string path)
    {
        path = System.IO.Path.GetFullPath(path);
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.RandomAccess);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelFormatException(path, $"cannot open: {e.Message}", e);
        }

        MemoryMappedFile? map = null;
        MemoryMappedViewAccessor? accessor = null;
        try
        {
            long length = stream.Length;
            // The header is validated from a plain read before mapping, so a bad file never gets mapped.
            SafetensorsHeader header = ReadHeader(path, stream, length);
            map = MemoryMappedFile.CreateFromFile(stream, mapName: null, capacity: 0, MemoryMappedFileAccess.Read,
                HandleInheritability.None, leaveOpen: false);
            accessor = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            return new SafetensorsFile(path, header, map, accessor, length);
        }
        catch
        {
            accessor?.Dispose();
            map?.Dispose();
            stream.Dispose();
            throw;
        }
    }

    private static SafetensorsHeader ReadHeader(string path, FileStream stream, long length)
    {
        if (length < 8)
            throw new ModelFormatException(path, $"file is {length} bytes, too short for the 8-byte header length");
        Span<byte> prefix = stackalloc byte[8];
        RandomAccess.Read(stream.SafeFileHandle, prefix, 0);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (headerLength > SafetensorsHeader.MaxHeaderBytes)
            throw new ModelFormatException(path, $"header length {headerLength} is over the {SafetensorsHeader.MaxHeaderBytes / 1_000_000} MB limit");
        if ((long)headerLength > length - 8)
            throw new ModelFormatException(path, $"header length {headerLength} runs past the end of the file ({length} bytes)");

        var json = new byte[headerLength];
        int read = 0;
        while (read < json.Length)
        {
            int n = RandomAccess.Read(stream.SafeFileHandle, json.AsSpan(read), 8 + read);
            if (n == 0)
                throw new ModelFormatException(path, "file ended while reading the header");
            read += n;
        }
        long dataStart = 8 + (long)headerLength;
        return SafetensorsHeader.Parse(path, json, dataStart, length - dataStart);
    }

    public TensorView GetView(string name)
    {
        ObjectDisposedException.ThrowIf(_base is null, this);
        if (!Tensors.TryGetValue(name, out TensorInfo? info))
            throw new ModelFormatException(Path, "not in this file", name);
        return new TensorView(info, _base + info.DataOffset);
    }

    public bool Contains(string name) => Tensors.ContainsKey(name);

    public void Dispose()
    {
        if (_base is null)
            return;
        _base = null;
        _handle.ReleasePointer();
        _accessor.Dispose();
        _map.Dispose();
    }
}
