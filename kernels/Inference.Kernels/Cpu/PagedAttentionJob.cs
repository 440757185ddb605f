using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Inference.Kernels.Cpu;

/// <summary>
/// Causal attention for one query tile (up to <see cref="QueryTiles.Size"/> consecutive tokens of a
/// sequence) and a run of kv heads over the paged cache. Every query head of every token walks its
/// sequence's blocks in order with an online softmax (running max and sum), so a query at position p
/// sees the same blocks in the same order, with the same arithmetic, whether it came in a prefill chunk
/// or a decode step, whichever tile or run of heads it shares a job with.
/// </summary>
/// <remarks>
/// Blocks are the outer loop: a block's K and V slots hold every head side by side, so a job covering
/// all heads streams each block as one contiguous region, and the tile's tokens reuse it from L1. F16 rows are
/// widened once per tile, a head at a time; BF16 rows are widened in registers as they are read. Decode
/// attention is bound by reading the cache.
/// </remarks>
internal readonly unsafe struct PagedAttentionJob(
    StepMetadata meta, QueryTiles tiles, CpuActivation q, CpuKvCache cache, int layer, AttentionShape shape, CpuActivation output,
    int kvHeadsPerJob)
    : IParallelJob
{
    /// <summary>
    /// Kv heads per job: with few tiles (a decode step of few sequences) about eight jobs per thread, down to one
    /// head each, so the threads finish together; with many tiles all heads, so a block is read once per tile.
    /// At batch 1 on the 110m shape one head per job took ~18% less attention time than two (the previous
    /// choice; 4 alternating end-to-end pairs, int8, BF16 KV, context 512-640).
    /// </summary>
    public static int KvHeadsPerJob(int numTiles, int kvHeads, int threads)
    {
        int chunks = Math.Clamp((8 * threads + numTiles - 1) / Math.Max(1, numTiles), 1, kvHeads);
        return (kvHeads + chunks - 1) / chunks;
    }

    public static int JobsPerTile(int kvHeads, int kvHeadsPerJob) => (kvHeads + kvHeadsPerJob - 1) / kvHeadsPerJob;

    /// <summary>
    /// Pulls the next block's K and V rows of this job's heads toward L2 while the current block is
    /// computed: a job covering some heads reads each slot at a kvDim stride, which the hardware
    /// prefetchers follow poorly.
    /// </summary>
    private void Prefetch(int block, int n, int kvh0, int kvh1)
    {
        if (!Sse.IsSupported) return;
        int kvDim = shape.KvDim, headDim = shape.HeadDim, blockSize = cache.Shape.BlockSize, eb = cache.Shape.ElementBytes;
        long first = ((long)block * blockSize * kvDim + kvh0 * headDim) * eb;
        int spanBytes = (kvh1 - kvh0) * headDim * eb;
        long rowBytes = (long)kvDim * eb;
        byte* k = cache.KBytes(layer) + first;
        byte* v = cache.VBytes(layer) + first;
        for (int j = 0; j < n; j++)
            for (int d = 0; d < spanBytes; d += 64)
            {
                Sse.Prefetch1(k + j * rowBytes + d);
                Sse.Prefetch1(v + j * rowBytes + d);
            }
    }

    /// <summary>
    /// Per pool thread scratch (accumulators, widened F16 or BF16 rows, scores): pinned, so its address is stable,
    /// and reused, so a step allocates nothing.
    /// </summary>
    [ThreadStatic] private static float[]? t_scratch;

    private static float* Scratch(int floats)
    {
        var a = t_scratch;
        if (a is null || a.Length < floats) t_scratch = a = GC.AllocateUninitializedArray<float>(floats, pinned: true);
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

    /// <summary>As <see cref="Widen(Half*, int, float*, int, int)"/> for a BF16 block: a shift per element, exact.</summary>
    private static void Widen(ushort* src, int kvDim, float* dst, int span, int n)
    {
        for (int j = 0; j < n; j++)
            BFloat16Bits.Widen(src + (long)j * kvDim, dst + (long)j * span, span);
    }

    /// <summary>
    /// acc = acc * corr, then acc = fma(p[j], v[j], acc) for each key j in order: the same element-wise
    /// operations as a Scale and one Axpy per key, but with up to 64 accumulator floats held in registers
    /// across the keys instead of stored and reloaded once per key.
    /// </summary>
    /// <remarks>
    /// V rows are read as <typeparamref name="TV"/> into F32 registers; with a head size that is not a
    /// multiple of 16 only F32 rows may come here (the element-wise remainder reads floats).
    /// </remarks>
    private static void AccumulateV<TV>(float* acc, float corr, float* p, void* vb, int n, int kvDim, int headDim) where TV : struct, IKvRows
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
                long v = d;
                for (int j = 0; j < n; j++, v += kvDim)
                {
                    var e = Vector512.Create(p[j]);
                    a0 = Vector512.FusedMultiplyAdd(e, TV.Load(vb, v), a0);
                    a1 = Vector512.FusedMultiplyAdd(e, TV.Load(vb, v + 16), a1);
                    a2 = Vector512.FusedMultiplyAdd(e, TV.Load(vb, v + 32), a2);
                    a3 = Vector512.FusedMultiplyAdd(e, TV.Load(vb, v + 48), a3);
                }
                a0.Store(acc + d);
                a1.Store(acc + d + 16);
                a2.Store(acc + d + 32);
                a3.Store(acc + d + 48);
            }
            for (; d + 16 <= headDim; d += 16)
            {
                var a = Vector512.Load(acc + d) * corr;
                long v = d;
                for (int j = 0; j < n; j++, v += kvDim)
                    a = Vector512.FusedMultiplyAdd(Vector512.Create(p[j]), TV.Load(vb, v), a);
                a.Store(acc + d);
            }
        }
        if (d == headDim) return;
        // Remainder (or no 512-bit vectors): element-wise, so any width gives the same values.
        VecOps.Scale(acc + d, corr, headDim - d);
        for (int j = 0; j < n; j++) VecOps.Axpy(p[j], (float*)vb + (long)j * kvDim + d, acc + d, headDim - d);
    }

    /// <summary>The query heads of kv head <paramref name="kvh"/> over one block, for every token of the tile, reading K/V as <typeparamref name="TK"/>.</summary>
    private void Heads<TK>(void* kb, void* vb, int stride, int kvh, int group, int b, int t0, int nt, int nh, int h0, int headDim, int blockSize,
        float* sp, float* mP, float* lP, float* accAll) where TK : struct, IKvRows
    {
        for (int g = 0; g < group; g++)
        {
            int h = kvh * group + g;
            for (int ti = 0; ti < nt; ti++)
            {
                int n = Math.Min(blockSize, meta.Positions[t0 + ti] + 1 - b * blockSize);
                if (n <= 0) continue;
                int i = ti * nh + (h - h0);
                float* qh = q.Row(t0 + ti) + h * headDim;
                // F32 rows take the shape's own choice of score path; other types only come with the 16-key one.
                float corr = typeof(TK) == typeof(F32Rows)
                    ? AttentionScores.Block(qh, (float*)kb, stride, n, headDim, shape.Scale, sp, ref mP[i], ref lP[i])
                    : AttentionScores.BlockWide<TK>(qh, kb, stride, n, headDim, shape.Scale, sp, ref mP[i], ref lP[i]);
                AccumulateV<TK>(accAll + (long)i * headDim, corr, sp, vb, n, stride, headDim);
            }
        }
    }

    public void Execute(int item)
    {
        int kvHeads = shape.NumKvHeads;
        int perTile = JobsPerTile(kvHeads, kvHeadsPerJob);
        int tile = item / perTile;
        int kvh0 = item % perTile * kvHeadsPerJob;
        int kvh1 = Math.Min(kvHeads, kvh0 + kvHeadsPerJob);
        int s = tiles.Seq(tile), t0 = tiles.First(tile), nt = tiles.Tokens(tile);
        int headDim = shape.HeadDim;
        int group = shape.NumHeads / kvHeads;
        int blockSize = cache.Shape.BlockSize;
        int kvDim = shape.KvDim;
        bool f16 = cache.IsF16, bf16 = cache.IsBF16;
        // BF16 with the 16-key path reads the cache in place, widening in registers; F16 (and BF16 on other
        // head sizes) is widened per head into scratch first. Both give the F32 path's values.
        bool fusedBf16 = bf16 && AttentionScores.Wide(headDim), narrow = f16 || (bf16 && !fusedBf16);
        int h0 = kvh0 * group;
        int nh = (kvh1 - kvh0) * group;

        // Scratch: [nt * nh] max and sum, [nt * nh * headDim] accumulators, scores, then widened K and V.
        int scoreFloats = AttentionScores.ScratchFloats(blockSize);
        int stateFloats = nt * nh * (2 + headDim);
        float* scratch = Scratch(stateFloats + scoreFloats + (narrow ? 2 * blockSize * headDim : 0) + 16);
        float* mP = scratch;
        float* lP = mP + nt * nh;
        float* accAll = lP + nt * nh;
        // 64-byte aligned scores: they are stored and reloaded as whole vectors.
        float* sp = (float*)(((nint)(accAll + nt * nh * headDim) + 63) & ~(nint)63);
        float* kWide = sp + scoreFloats;
        float* vWide = kWide + (long)blockSize * headDim;
        for (int i = 0; i < nt * nh; i++) { mP[i] = float.NegativeInfinity; lP[i] = 0f; }
        new Span<float>(accAll, nt * nh * headDim).Clear();

        float* kBase = narrow || fusedBf16 ? null : cache.K(layer);
        float* vBase = narrow || fusedBf16 ? null : cache.V(layer);
        Half* kHalf = f16 ? cache.KHalf(layer) : null;
        Half* vHalf = f16 ? cache.VHalf(layer) : null;
        ushort* kBf = bf16 ? cache.KBf16(layer) : null;
        ushort* vBf = bf16 ? cache.VBf16(layer) : null;
        int stride = narrow ? headDim : kvDim;
        int tableBase = s * meta.MaxBlocksPerSeq;
        // Tokens of a tile are consecutive, so the last one sees the most blocks.
        int ctxLast = meta.Positions[t0 + nt - 1] + 1;
        int numBlocks = (ctxLast + blockSize - 1) / blockSize;
        for (int b = 0; b < numBlocks; b++)
        {
            int block = meta.BlockTables[tableBase + b];
            int nMax = Math.Min(blockSize, ctxLast - b * blockSize);
            long blockFirst = (long)block * blockSize * kvDim;
            if (b + 1 < numBlocks) Prefetch(meta.BlockTables[tableBase + b + 1], Math.Min(blockSize, ctxLast - (b + 1) * blockSize), kvh0, kvh1);
            for (int kvh = kvh0; kvh < kvh1; kvh++)
            {
                float* kb, vb;
                long head = blockFirst + kvh * headDim;
                if (narrow)
                {
                    // One head's rows at a time: a whole block of every head (96 KB at the 110m shape) did not
                    // fit L1, and the widened rows were evicted before the scores and the V pass read them.
                    if (f16)
                    {
                        Widen(kHalf + head, kvDim, kWide, headDim, nMax);
                        Widen(vHalf + head, kvDim, vWide, headDim, nMax);
                    }
                    else
                    {
                        Widen(kBf + head, kvDim, kWide, headDim, nMax);
                        Widen(vBf + head, kvDim, vWide, headDim, nMax);
                    }
                    kb = kWide;
                    vb = vWide;
                }
                else if (fusedBf16)
                {
                    Heads<Bf16Rows>(kBf + head, vBf + head, kvDim, kvh, group, b, t0, nt, nh, h0, headDim, blockSize, sp, mP, lP, accAll);
                    continue;
                }
                else
                {
                    kb = kBase + head;
                    vb = vBase + head;
                }
                Heads<F32Rows>(kb, vb, stride, kvh, group, b, t0, nt, nh, h0, headDim, blockSize, sp, mP, lP, accAll);
            }
        }
        for (int ti = 0; ti < nt; ti++)
            for (int hi = 0; hi < nh; hi++)
            {
                int i = ti * nh + hi;
                float* o = output.Row(t0 + ti) + (h0 + hi) * headDim;
                float* accP = accAll + (long)i * headDim;
                float inv = 1f / lP[i];
                for (int d = 0; d < headDim; d++) o[d] = accP[d] * inv;
            }
    }
}
