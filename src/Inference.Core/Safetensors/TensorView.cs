using System.Runtime.CompilerServices;

namespace Inference.Safetensors;

/// <summary>A read-only view of one tensor's bytes inside a mapped file; valid while its file is open.</summary>
public readonly unsafe struct TensorView
{
    public TensorInfo Info { get; }

    public byte* Pointer { get; }

    public long ByteLength => Info.ByteLength;

    internal TensorView(TensorInfo info, byte* pointer)
    {
        Info = info;
        Pointer = pointer;
    }

    /// <summary>The raw bytes; tensors over 2 GiB cannot be a span, use <see cref="Pointer"/> for those.</summary>
    public ReadOnlySpan<byte> Bytes
    {
        get
        {
            if (ByteLength > int.MaxValue)
                throw new ModelFormatException(Info.FilePath, $"is {ByteLength} bytes, too large for a span; read it through Pointer", Info.Name);
            return new ReadOnlySpan<byte>(Pointer, (int)ByteLength);
        }
    }

    /// <summary>The elements as <typeparamref name="T"/>, whose size must match the dtype (ushort or Half for F16/BF16).</summary>
    public ReadOnlySpan<T> AsSpan<T>() where T : unmanaged
    {
        // A size check catches the common bug of reading BF16 weights as float without costing anything.
        int size = Unsafe.SizeOf<T>();
        int elementSize = DTypes.SizeOf(Info.DType);
        if (size != elementSize)
            throw new InvalidOperationException(
                $"{Info.FilePath}: tensor '{Info.Name}' is {DTypes.Name(Info.DType)} ({elementSize} bytes per element) but was read as {typeof(T).Name} ({size} bytes)");
        if (Info.ElementCount > int.MaxValue)
            throw new ModelFormatException(Info.FilePath, $"has {Info.ElementCount} elements, too many for a span; read it through Pointer", Info.Name);
        return new ReadOnlySpan<T>(Pointer, (int)Info.ElementCount);
    }

    /// <summary>Shape[i] as an int, for kernels that index with int.</summary>
    public int Dim(int i)
    {
        long[] shape = Info.Shape;
        if ((uint)i >= (uint)shape.Length)
            throw new ArgumentOutOfRangeException(nameof(i), i, $"tensor '{Info.Name}' has {shape.Length} dimensions");
        if (shape[i] > int.MaxValue)
            throw new ModelFormatException(Info.FilePath, $"dimension {i} is {shape[i]}, larger than int.MaxValue", Info.Name);
        return (int)shape[i];
    }
}
