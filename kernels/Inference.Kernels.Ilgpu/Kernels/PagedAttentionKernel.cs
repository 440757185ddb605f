using ILGPU;
using ILGPU.Algorithms;

namespace Inference.Kernels.Ilgpu.Kernels;

/// <summary>
/// FlashAttention-2 style causal attention over the paged cache, with flash-decoding's split of the keys into
/// partitions. One group per (work item, kv head): an item is a tile of up to TileTokens consecutive tokens of
/// one sequence with all query heads that share the kv head (GQA), and either all of the tile's KV partitions
/// (walked in order, each folded into a running result) or one partition (written to the partials buffer for
/// <see cref="SplitKvMergeKernel"/>). K/V stream through shared memory chunk by chunk in block-table order with
/// an online softmax.
/// Batch invariance: a query's keys are cut into partitions at fixed key indices (multiples of PartitionKeys,
/// a backend constant), so how many partitions it has depends on its own context length only. Each partition
/// starts from a fresh softmax state and walks the same chunks in the same order, each score, running max/sum
/// and output element produced by one thread in a fixed loop order; chunks past a query's causal end are masked
/// to exactly zero weight and leave its state untouched. Partitions are then folded in index order by
/// <see cref="SoftmaxMerge"/>, here or in the merge kernel. So the result is the same whether the query came in
/// a long prefill tile or alone in a decode step, and whether its partitions ran in one group or in several.
/// </summary>
public static class PagedAttentionKernel
{
    /// <summary>Ints per work item: sequence, first token row, token count, partition (-1: all), first split slot.</summary>
    public const int ItemInts = 5;

    public static void Run<TKv>(ArrayView<float> q, TKv kCache, TKv vCache, ArrayView<float> output, ArrayView<float> partials,
        ArrayView<int> items, ArrayView<int> positions, ArrayView<int> blockTables, AttentionArgs a) where TKv : struct, IKvView
    {
        int tid = Group.IdxX;
        int nThreads = Group.DimX;
        int d = a.HeadDim;
        int ratio = a.Ratio;
        int rows = a.QueryRows;
        int kc = a.KeyChunk;
        int kvh = Grid.IdxY;
        long item = (long)Grid.IdxX * ItemInts;
        int seq = items[item];
        int start = items[item + 1];
        int count = items[item + 2];
        int part = items[item + 3];
        int slot0 = items[item + 4];
        int qDim = a.NumHeads * d;
        // Decode tiles hold one token: loops run over the live rows only.
        int live = count * ratio;
        int kvDim = a.NumKvHeads * d;

        var shared = SharedMemory.GetDynamic<float>();
        var qs = shared.SubView(0, rows * d);
        var acc = shared.SubView(rows * d, rows * d);
        var ks = shared.SubView(2 * rows * d, kc * d);
        var vs = shared.SubView(2 * rows * d + kc * d, kc * d);
        var p = shared.SubView(2 * rows * d + 2 * kc * d, rows * kc);
        int statBase = 2 * rows * d + 2 * kc * d + rows * kc;
        var rowMax = shared.SubView(statBase, rows);
        var rowSum = shared.SubView(statBase + rows, rows);
        var rowCorr = shared.SubView(statBase + 2 * rows, rows);
        var mergedMax = shared.SubView(statBase + 3 * rows, rows);
        var mergedSum = shared.SubView(statBase + 4 * rows, rows);
        var oldScale = shared.SubView(statBase + 5 * rows, rows);
        var newScale = shared.SubView(statBase + 6 * rows, rows);

        // Query rows are (token in tile, head in group); rows past the tile's tokens stay zero and masked.
        for (int e = tid; e < rows * d; e += nThreads)
        {
            int r = e / d;
            int c = e - r * d;
            int tt = r / ratio;
            int h = kvh * ratio + (r - tt * ratio);
            qs[e] = tt < count ? q[(long)(start + tt) * qDim + h * d + c] : 0f;
        }
        // The last token of the tile has the longest causal context.
        int ctxEnd = positions[start + count - 1] + 1;
        int pk = a.PartitionKeys;
        int firstPart = part < 0 ? 0 : part;
        int endPart = part < 0 ? (ctxEnd + pk - 1) / pk : part + 1;
        int chunksPerBlock = a.BlockSize / kc;
        long tableBase = (long)seq * a.MaxBlocksPerSeq;

        for (int pi = firstPart; pi < endPart; pi++)
        {
            int keyBegin = pi * pk;
            int keyEnd = XMath.Min(keyBegin + pk, ctxEnd);
            for (int e = tid; e < live * d; e += nThreads) acc[e] = 0f;
            for (int r = tid; r < live; r += nThreads)
            {
                rowMax[r] = float.NegativeInfinity;
                rowSum[r] = 0f;
            }
            Group.Barrier();

            int chEnd = (keyEnd + kc - 1) / kc;
            for (int ch = keyBegin / kc; ch < chEnd; ch++)
            {
                int b = ch / chunksPerBlock;
                int block = blockTables[tableBase + b];
                int key0 = ch * kc;
                long slot = (long)block * a.BlockSize + (ch - b * chunksPerBlock) * kc;
                for (int e = tid; e < kc * d; e += nThreads)
                {
                    int j = e / d;
                    int c = e - j * d;
                    long src = (slot + j) * kvDim + kvh * d + c;
                    bool inContext = key0 + j < ctxEnd;
                    ks[e] = inContext ? kCache.Load(src) : 0f;
                    vs[e] = inContext ? vCache.Load(src) : 0f;
                }
                Group.Barrier();

                for (int e = tid; e < live * kc; e += nThreads)
                {
                    int r = e / kc;
                    int j = e - r * kc;
                    int ctx = positions[start + r / ratio] + 1;
                    float s = float.NegativeInfinity;
                    if (key0 + j < ctx)
                    {
                        float dot = 0f;
                        for (int c = 0; c < d; c++) dot = Fma.Mad(qs[r * d + c], ks[j * d + c], dot);
                        s = dot * a.Scale;
                    }
                    p[e] = s;
                }
                Group.Barrier();

                for (int r = tid; r < live; r += nThreads)
                {
                    float m = rowMax[r];
                    float bm = float.NegativeInfinity;
                    for (int j = 0; j < kc; j++) bm = XMath.Max(bm, p[r * kc + j]);
                    float mNew = XMath.Max(m, bm);
                    // A row that has seen no key yet keeps zero weights (exp(-inf - -inf) would be NaN).
                    bool dead = mNew == float.NegativeInfinity;
                    float corr = dead ? 1f : XMath.Exp(m - mNew);
                    float l = rowSum[r] * corr;
                    for (int j = 0; j < kc; j++)
                    {
                        float e = dead ? 0f : XMath.Exp(p[r * kc + j] - mNew);
                        p[r * kc + j] = e;
                        l += e;
                    }
                    rowMax[r] = mNew;
                    rowSum[r] = l;
                    rowCorr[r] = corr;
                }
                Group.Barrier();

                for (int e = tid; e < live * d; e += nThreads)
                {
                    int r = e / d;
                    int c = e - r * d;
                    float o = Fma.Mul(acc[e], rowCorr[r]);
                    for (int j = 0; j < kc; j++) o = Fma.Mad(p[r * kc + j], vs[j * d + c], o);
                    acc[e] = o;
                }
                Group.Barrier();
            }

            if (part < 0)
            {
                // Fold the partition into the running result; its output lives unnormalized in `output` (each
                // element is read and written by the same thread in every loop, so no barrier is needed for it).
                for (int r = tid; r < live; r += nThreads)
                {
                    if (positions[start + r / ratio] + 1 <= keyBegin) continue;
                    if (pi == 0)
                    {
                        mergedMax[r] = rowMax[r];
                        mergedSum[r] = rowSum[r];
                        continue;
                    }
                    var mg = SoftmaxMerge.Of(mergedMax[r], mergedSum[r], rowMax[r], rowSum[r]);
                    mergedMax[r] = mg.Max;
                    mergedSum[r] = mg.Sum;
                    oldScale[r] = mg.OldScale;
                    newScale[r] = mg.NewScale;
                }
                Group.Barrier();
                for (int e = tid; e < live * d; e += nThreads)
                {
                    int r = e / d;
                    int c = e - r * d;
                    int tt = r / ratio;
                    if (positions[start + tt] + 1 <= keyBegin) continue;
                    long oi = (long)(start + tt) * qDim + (kvh * ratio + r - tt * ratio) * d + c;
                    if (pi == 0) output[oi] = acc[e];
                    else
                    {
                        var mg = new SoftmaxMerge { OldScale = oldScale[r], NewScale = newScale[r] };
                        output[oi] = mg.Output(output[oi], acc[e]);
                    }
                }
            }
            else
            {
                for (int e = tid; e < live * d; e += nThreads)
                {
                    int r = e / d;
                    int c = e - r * d;
                    int tt = r / ratio;
                    int h = kvh * ratio + r - tt * ratio;
                    int ctx = positions[start + tt] + 1;
                    if (ctx <= keyBegin) continue;
                    if (ctx <= pk)
                    {
                        // One partition: nothing to merge, normalized here exactly as the folding path does.
                        output[(long)(start + tt) * qDim + h * d + c] = acc[e] * (1f / rowSum[r]);
                        continue;
                    }
                    long pb = a.PartialBase(slot0 + tt, h, pi);
                    partials[pb + c] = acc[e];
                    if (c == 0)
                    {
                        partials[pb + d] = rowMax[r];
                        partials[pb + d + 1] = rowSum[r];
                    }
                }
            }
            Group.Barrier();
        }

        if (part >= 0) return;
        for (int e = tid; e < live * d; e += nThreads)
        {
            int r = e / d;
            int c = e - r * d;
            int tt = r / ratio;
            long oi = (long)(start + tt) * qDim + (kvh * ratio + r - tt * ratio) * d + c;
            output[oi] = output[oi] * (1f / mergedSum[r]);
        }
    }
}
