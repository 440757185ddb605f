using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Inference.Bench.Peer;

/// <summary>Memory read bandwidth: threads each sum their part of a buffer far larger than the caches; the best reading is kept.</summary>
internal sealed unsafe class Bandwidth : IDisposable
{
    private readonly int _threads;
    private readonly long _bytes;
    private float* _p;

    public Bandwidth(int threads, long bytes = 1L << 30)
    {
        _threads = threads;
        _bytes = bytes;
        _p = (float*)NativeMemory.AlignedAlloc((nuint)bytes, 64);
        for (long off = 0; off < bytes; off += 1 << 26)
            new Span<byte>((byte*)_p + off, (int)Math.Min(1 << 26, bytes - off)).Fill(1);
    }

    /// <summary>The highest bytes per second read so far.</summary>
    public double Best { get; private set; }

    /// <summary>Reads the buffer a few times and returns the best of them.</summary>
    public double Measure(int iterations = 5)
    {
        long floats = _bytes / 4, per = floats / _threads & ~63L;
        float* p = _p;
        double best = 0;
        for (int it = 0; it < iterations; it++)
        {
            var sw = Stopwatch.StartNew();
            Parallel.For(0, _threads, new ParallelOptions { MaxDegreeOfParallelism = _threads }, t =>
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
            best = Math.Max(best, per * _threads * 4.0 / sw.Elapsed.TotalSeconds);
        }
        Best = Math.Max(Best, best);
        return best;
    }

    public void Dispose()
    {
        if (_p is null) return;
        NativeMemory.AlignedFree(_p);
        _p = null;
    }
}
