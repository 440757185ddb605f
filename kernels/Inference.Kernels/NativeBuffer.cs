using System.Runtime.InteropServices;

namespace Inference.Kernels;

/// <summary>
/// 64-byte aligned native memory, zeroed, freed on Dispose (weights the process creates, KV pools). Buffers of
/// 2 MiB and more are 2 MiB aligned and, on Linux, marked for transparent huge pages before they are zeroed:
/// zeroing a 4.8 GB KV pool page by 4 KB page took 27 s on the development VM (each first touch is a fault),
/// and the decode loop streams these buffers, so fewer TLB entries help there too.
/// </summary>
public sealed unsafe class NativeBuffer : IDisposable
{
    private const long HugePage = 2 << 20;
    private const long ParallelClear = 64 << 20;

    public byte* Pointer { get; private set; }
    public long Length { get; }

    public NativeBuffer(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        Length = bytes;
        long size = Math.Max(bytes, 64);
        bool huge = size >= HugePage;
        Pointer = (byte*)NativeMemory.AlignedAlloc((nuint)size, huge ? (nuint)HugePage : 64);
        if (huge) HugePages.Advise(Pointer, size);
        if (size < ParallelClear)
            NativeMemory.Clear(Pointer, (nuint)size);
        else
        {
            // First touches fault page by page; on a VM each fault is slow, so every core takes a share.
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

/// <summary>madvise(MADV_HUGEPAGE) where the OS has it; a hint, so any failure is ignored.</summary>
internal static unsafe partial class HugePages
{
    private const int MadvHugePage = 14;
    private static bool s_unavailable = !OperatingSystem.IsLinux();

    public static void Advise(void* p, long bytes)
    {
        if (s_unavailable) return;
        try
        {
            // The range must start on a page; AlignedAlloc gave a 2 MiB boundary.
            _ = madvise((nint)p, (nuint)bytes, MadvHugePage);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            s_unavailable = true;
        }
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int madvise(nint addr, nuint length, int advice);
}
