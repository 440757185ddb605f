using System.Diagnostics;
using System.Runtime.Intrinsics;

namespace Inference.Bench.Peer;

/// <summary>
/// F32 FMA throughput: each thread runs twelve independent 16-lane FMA chains from registers (enough to
/// cover the FMA latency), so nothing but the FMA units limits it. Prefill of an F32 model is a chain of
/// matmuls, so this is its ceiling, as read bandwidth is decode's.
/// </summary>
internal static class ComputePeak
{
    public static double FlopsPerSecond(int threads, int repeats = 5, long iterations = 20_000_000)
    {
        double best = 0;
        for (int it = 0; it < repeats; it++)
        {
            var sw = Stopwatch.StartNew();
            Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t => Chains(iterations, t));
            best = Math.Max(best, threads * iterations * 12.0 * 16 * 2 / sw.Elapsed.TotalSeconds);
        }
        return best;
    }

    private static void Chains(long iterations, int seed)
    {
        var m = Vector512.Create(0.999999f);
        var c = Vector512.Create(1e-7f);
        Vector512<float> a0 = Vector512.Create((float)seed), a1 = a0 + c, a2 = a1 + c, a3 = a2 + c, a4 = a3 + c, a5 = a4 + c,
            a6 = a5 + c, a7 = a6 + c, a8 = a7 + c, a9 = a8 + c, a10 = a9 + c, a11 = a10 + c;
        for (long i = 0; i < iterations; i++)
        {
            a0 = Vector512.FusedMultiplyAdd(a0, m, c);
            a1 = Vector512.FusedMultiplyAdd(a1, m, c);
            a2 = Vector512.FusedMultiplyAdd(a2, m, c);
            a3 = Vector512.FusedMultiplyAdd(a3, m, c);
            a4 = Vector512.FusedMultiplyAdd(a4, m, c);
            a5 = Vector512.FusedMultiplyAdd(a5, m, c);
            a6 = Vector512.FusedMultiplyAdd(a6, m, c);
            a7 = Vector512.FusedMultiplyAdd(a7, m, c);
            a8 = Vector512.FusedMultiplyAdd(a8, m, c);
            a9 = Vector512.FusedMultiplyAdd(a9, m, c);
            a10 = Vector512.FusedMultiplyAdd(a10, m, c);
            a11 = Vector512.FusedMultiplyAdd(a11, m, c);
        }
        var s = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11;
        if (Vector512.Sum(s) == 42f) Console.Write(""); // keeps the chains alive
    }

    /// <summary>Multiply-adds one prompt of <paramref name="len"/> tokens costs: every layer matrix per token plus causal attention (QK and PV).</summary>
    public static double PrefillMacs(Inference.Models.LlamaWeights w, int len)
    {
        long perToken = 0;
        foreach (var l in w.Layers)
            foreach (var m in new[] { l.Q, l.K, l.V, l.O, l.Gate, l.Up, l.Down })
                perToken += (long)m.Rows * m.Cols;
        double attention = (double)w.Layers.Count * 2 * w.Layers[0].Q.Rows * len * (len + 1) / 2.0;
        return (double)perToken * len + attention + (double)w.LmHead.Rows * w.LmHead.Cols; // one head row: the last token's logits
    }
}
