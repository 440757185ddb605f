using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Inference.Kernels.Cpu;

/// <summary>
/// Causal attention for one token and a run of kv heads over the paged cache. Each query head walks the
/// sequence's blocks in order with an online softmax (running max and sum), so a query at position p
/// sees the same tiles in the same order whether it came in a prefill chunk or a decode step, and
/// whatever run of heads shares its job.
/// </summary>
/// <remarks>
/// Heads are the inner loop, blocks the outer one: a block's K and V slots hold every head side by side,
/// so a job covering all heads streams each block as one contiguous region instead of a 4-line read
/// every kvDim floats per head. Decode attention is bound by reading the cache, and the strided
/// per-head walk ran well under the memory bandwidth.
/// </remarks>
internal readonly unsafe struct PagedAttentionJob(
    StepMetadata meta, int[] tokenSeq, CpuActivation q, CpuKvCache cache, int layer, AttentionShape shape, CpuActivation output,
    int kvHeadsPerJob)
    : IParallelJob
{
    /// <summary>Jobs per token: enough to keep every thread busy when the step has few tokens, else one.</summary>
    public static int KvHeadsPerJob(int numTokens, int kvHeads, int threads)
    {
        int chunks = Math.Clamp((4 * threads + numTokens - 1) / Math.Max(1, numTokens), 1, kvHeads);
        return (kvHeads + chunks - 1) / chunks;
    }

    public static int JobsPerToken(int kvHeads, int kvHeadsPerJob) => (kvHeads + kvHeadsPerJob - 1) / kvHeadsPerJob;

    /// <summary>
    /// Pulls the next block's K and V rows of this job's heads toward L2 while the current block is
    /// computed: the per-head walk reads each slot at a kvDim stride, which the hardware prefetchers
    /// follow poorly, and decode attention waits on DRAM otherwise.
    /// </summary>
    private void Prefetch(int block, int n, int kvh0, int kvh1)
    {
        if (!Sse.IsSupported) return;
        int kvDim = shape.KvDim, headDim = shape.HeadDim, blockSize = cache.Shape.BlockSize, eb = cache.Shape.ElementBytes;
        long first = ((long)block * blockSize * kvDim + kvh0 * headDim) * eb;
        int spanBytes = (kvh1 - kvh0) * headDim * eb;
        long rowBytes = (long)kvDim * eb;
        byte* k = (cache.IsF16 ? (byte*)cache.KHalf(layer) : (byte*)cache.K(layer)) + first;
        byte* v = (cache.IsF16 ? (byte*)cache.VHalf(layer) : (byte*)cache.V(layer)) + first;
        for (int j = 0; j < n; j++)
            for (int d = 0; d < spanBytes; d += 64)
            {
                Sse.Prefetch1(k + j * rowBytes + d);
                Sse.Prefetch1(v + j * rowBytes + d);
            }
    }

    /// <summary>
    /// Widened K and V rows of one block for an F16 cache, per pool thread: pinned, so its address is
    /// stable, and reused, so a step allocates nothing.
    /// </summary>
    [ThreadStatic] private static float[]? t_widened;

    private static float* Widened(int floats)
    {
        var a = t_widened;
        if (a is null || a.Length < floats) t_widened = a = GC.AllocateUninitializedArray<float>(floats, pinned: true);
        return (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(a));
    }

    /// <summary>
    /// Widens rows [0, n) of this job's heads from an F16 block into dst with row stride span. Half to
    /// float is exact, so the F32 math that follows is the same as for a pool that held those values.
    /// </summary>
    private static void Widen(Half* src, int kvDim, float* dst, int span, int n)
    {
        for (int j = 0; j < n; j++)
            HalfWiden.Run(src + (long)j * kvDim, dst + (long)j * span, span);
    }

    private static float MaxOf(Vector512<float> v)
    {
        var h = Vector256.Max(v.GetLower(), v.GetUpper());
        var q = Vector128.Max(h.GetLower(), h.GetUpper());
        float a = MathF.Max(q.GetElement(0), q.GetElement(1));
        float b = MathF.Max(q.GetElement(2), q.GetElement(3));
        return MathF.Max(a, b);
    }

    /// <summary>
    /// acc = acc * corr, then acc = fma(p[j], v[j], acc) for each key j in order: the same element-wise
    /// operations as a Scale and one Axpy per key, but with up to 64 accumulator floats held in registers
    /// across the keys instead of stored and reloaded once per key.
    /// </summary>
    private static void AccumulateV(float* acc, float corr, float* p, float* vb, int n, int kvDim, int headDim)
    {
        int d = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; d + 64 <= headDim; d += 64)
            {
                var a0 = Vector512.Load(acc + d) * corr;
                var a1 = Vector512.Load(acc + d + 16) * corr;
                var a2 = Vector512.Load(acc + d + 32) * corr;
                var a3 = Vector512.Load(acc + d + 48) * corr;
                float* v = vb + d;
                for (int j = 0; j < n; j++, v += kvDim)
                {
                    var e = Vector512.Create(p[j]);
                    a0 = Vector512.FusedMultiplyAdd(e, Vector512.Load(v), a0);
                    a1 = Vector512.FusedMultiplyAdd(e, Vector512.Load(v + 16), a1);
                    a2 = Vector512.FusedMultiplyAdd(e, Vector512.Load(v + 32), a2);
                    a3 = Vector512.FusedMultiplyAdd(e, Vector512.Load(v + 48), a3);
                }
                a0.Store(acc + d);
                a1.Store(acc + d + 16);
                a2.Store(acc + d + 32);
                a3.Store(acc + d + 48);
            }
            for (; d + 16 <= headDim; d += 16)
            {
                var a = Vector512.Load(acc + d) * corr;
                float* v = vb + d;
                for (int j = 0; j < n; j++, v += kvDim)
                    a = Vector512.FusedMultiplyAdd(Vector512.Create(p[j]), Vector512.Load(v), a);
                a.Store(acc + d);
            }
        }
        if (d == headDim) return;
        // Remainder (or no 512-bit vectors): element-wise, so any width gives the same values.
        VecOps.Scale(acc + d, corr, headDim - d);
        for (int j = 0; j < n; j++) VecOps.Axpy(p[j], vb + (long)j * kvDim + d, acc + d, headDim - d);
    }

    public void Execute(int item)
    {
        int kvHeads = shape.NumKvHeads;
        int perToken = JobsPerToken(kvHeads, kvHeadsPerJob);
        int t = item / perToken;
        int kvh0 = item % perToken * kvHeadsPerJob;
        int kvh1 = Math.Min(kvHeads, kvh0 + kvHeadsPerJob);
        int s = tokenSeq[t];
        int ctx = meta.Positions[t] + 1;
        int headDim = shape.HeadDim;
        int group = shape.NumHeads / kvHeads;
        int blockSize = cache.Shape.BlockSize;
        int kvDim = shape.KvDim;
        bool f16 = cache.IsF16;
        float* kBase = f16 ? null : cache.K(layer);
        float* vBase = f16 ? null : cache.V(layer);
        Half* kHalf = f16 ? cache.KHalf(layer) : null;
        Half* vHalf = f16 ? cache.VHalf(layer) : null;
        // F16 rows are widened per block into a dense [n, span] scratch; F32 rows are read in place.
        int span = (kvh1 - kvh0) * headDim;
        float* kWide = f16 ? Widened(2 * blockSize * span) : null;
        float* vWide = kWide + (long)blockSize * span;
        int stride = f16 ? span : kvDim;
        int tableBase = s * meta.MaxBlocksPerSeq;
        int h0 = kvh0 * group;
        int nh = (kvh1 - kvh0) * group;

        float* sp = stackalloc float[blockSize];
        var scores = new Span<float>(sp, blockSize);
        // Per query head of the job: running max, running sum and the output accumulator.
        float* mP = stackalloc float[nh];
        float* lP = stackalloc float[nh];
        float* accAll = stackalloc float[nh * headDim];
        for (int i = 0; i < nh; i++) { mP[i] = float.NegativeInfinity; lP[i] = 0f; }
        new Span<float>(accAll, nh * headDim).Clear();
        float* qRow = q.Row(t);

        int numBlocks = (ctx + blockSize - 1) / blockSize;
        for (int b = 0; b < numBlocks; b++)
        {
            int block = meta.BlockTables[tableBase + b];
            int n = Math.Min(blockSize, ctx - b * blockSize);
            long blockFirst = (long)block * blockSize * kvDim;
            var sc = scores[..n];
            if (b + 1 < numBlocks) Prefetch(meta.BlockTables[tableBase + b + 1], Math.Min(blockSize, ctx - (b + 1) * blockSize), kvh0, kvh1);
            float* kBlock, vBlock;
            if (f16)
            {
                Widen(kHalf + blockFirst + kvh0 * headDim, kvDim, kWide, span, n);
                Widen(vHalf + blockFirst + kvh0 * headDim, kvDim, vWide, span, n);
                // Shifted so head kvh sits at (kvh - kvh0) * headDim, as the F32 path indexes it.
                kBlock = kWide - kvh0 * headDim;
                vBlock = vWide - kvh0 * headDim;
            }
            else
            {
                kBlock = kBase + blockFirst;
                vBlock = vBase + blockFirst;
            }
            for (int kvh = kvh0; kvh < kvh1; kvh++)
            {
                float* kb = kBlock + kvh * headDim;
                float* vb = vBlock + kvh * headDim;
                for (int g = 0; g < group; g++)
                {
                    int h = kvh * group + g;
                    int i = h - h0;
                    float* qh = qRow + h * headDim;
                    float* accP = accAll + (long)i * headDim;
                    // Four keys per pass share the q loads; each score is reduced exactly as a lone Dot would.
                    int j = 0;
                    for (; j + 4 <= n; j += 4)
                    {
                        float* k0 = kb + (long)j * stride;
                        SimdDot.Dot4(qh, k0, k0 + stride, k0 + 2 * stride, k0 + 3 * stride, headDim, sp + j);
                    }
                    for (; j < n; j++) sp[j] = SimdDot.Dot(qh, kb + (long)j * stride, headDim);
                    float m = mP[i];
                    float mNew, corr;
                    if (n == 16 && Vector512.IsHardwareAccelerated)
                    {
                        // A full block is one vector: the library calls cost more than the math at this length.
                        var sv = Vector512.Load(sp) * shape.Scale;
                        mNew = MathF.Max(m, MaxOf(sv));
                        corr = MathF.Exp(m - mNew);
                        (sv - Vector512.Create(mNew)).Store(sp);
                    }
                    else
                    {
                        TensorPrimitives.Multiply(sc, shape.Scale, sc);
                        mNew = MathF.Max(m, TensorPrimitives.Max(sc));
                        corr = MathF.Exp(m - mNew);
                        TensorPrimitives.Subtract(sc, mNew, sc);
                    }
                    float l = lP[i] * corr;
                    // One vectorized exp over the block instead of a scalar exp per key.
                    TensorPrimitives.Exp(sc, sc);
                    for (j = 0; j < n; j++) l += sp[j];
                    AccumulateV(accP, corr, sp, vb, n, stride, headDim);
                    mP[i] = mNew;
                    lP[i] = l;
                }
            }
        }
        for (int i = 0; i < nh; i++)
        {
            float* o = output.Row(t) + (h0 + i) * headDim;
            float* accP = accAll + (long)i * headDim;
            float inv = 1f / lP[i];
            for (int d = 0; d < headDim; d++) o[d] = accP[d] * inv;
        }
    }
}
