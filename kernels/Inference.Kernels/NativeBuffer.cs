using System.Runtime.InteropServices;

namespace Inference.Kernels;

/// <summary>
/// 64-byte aligned native memory, zeroed, freed on Dispose (weights the process creates, KV pools). Buffers of
/// 64 MiB and more are zeroed by every core: zeroing touches each page for the first time, and on the development
/// VM those faults made a 4.8 GB KV pool take 27 s to allocate on one thread.
/// </summary>
public sealed unsafe class NativeBuffer : IDisposable
{
    private const long ParallelClear = 64 << 20;

    public byte* Pointer { get; private set; }
    public long Length { get; }

    /// <param name="bytes">Size.</param>
    /// <param name="zeroed">False for a buffer the caller fills entirely itself (its first touch then happens there,
    /// e.g. spread over the threads that fill it, instead of here on one).</param>
    public NativeBuffer(long bytes, bool zeroed = true)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        Length = bytes;
        long size = Math.Max(bytes, 64);
        Pointer = (byte*)NativeMemory.AlignedAlloc((nuint)size, 64);
        if (!zeroed)
            return;
        if (size < ParallelClear)
            NativeMemory.Clear(Pointer, (nuint)size);
        else
        {
            byte* p = Pointer;
            long chunks = (size + ParallelClear - 1) / ParallelClear;
            Parallel.For(0L, chunks, c => NativeMemory.Clear(p + c * ParallelClear, (nuint)Math.Min(ParallelClear, size - c * ParallelClear)));
        }
    }

    public Span<T> AsSpan<T>() where T : unmanaged => new(Pointer, checked((int)(Length / sizeof(T))));

    public void Dispose()
    {
        if (Pointer != null)
        {
            NativeMemory.AlignedFree(Pointer);
            Pointer = null;
        }
    }
}
