using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Inference.Bench.Peer;

/// <summary>Memory read bandwidth: threads each sum their part of a buffer far larger than the caches.</summary>
internal static unsafe class Bandwidth
{
    public static double Measure(int threads, long bytes = 1L << 30)
    {
        float* p = (float*)NativeMemory.AlignedAlloc((nuint)bytes, 64);
        try
        {
            for (long off = 0; off < bytes; off += 1 << 26)
                new Span<byte>((byte*)p + off, (int)Math.Min(1 << 26, bytes - off)).Fill(1);
            long floats = bytes / 4, per = floats / threads & ~63L;
            double best = 0;
            for (int it = 0; it < 5; it++)
            {
                var sw = Stopwatch.StartNew();
                Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
                {
                    float* q = p + t * per;
                    Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
                    for (long i = 0; i < per; i += 64)
                    {
                        a0 += Vector512.Load(q + i);
                        a1 += Vector512.Load(q + i + 16);
                        a2 += Vector512.Load(q + i + 32);
                        a3 += Vector512.Load(q + i + 48);
                    }
                    if (Vector512.Sum(a0 + a1 + a2 + a3) == 42f) Console.Write(""); // keeps the loads alive
                });
                best = Math.Max(best, per * threads * 4.0 / sw.Elapsed.TotalSeconds);
            }
            return best;
        }
        finally
        {
            NativeMemory.AlignedFree(p);
        }
    }
}
