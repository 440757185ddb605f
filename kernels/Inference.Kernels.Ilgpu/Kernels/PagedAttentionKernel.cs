using ILGPU;
using ILGPU.Algorithms;

namespace Inference.Kernels.Ilgpu.Kernels;

/// <summary>
/// FlashAttention-2 style causal attention over the paged cache. One group per (query tile, kv head): the
/// tile holds up to TileTokens consecutive tokens of one sequence and all query heads that share the kv head
/// (GQA). K/V stream through shared memory chunk by chunk in block-table order with an online softmax.
/// Batch invariance: every query walks the same chunks in the same order and each score, running max/sum and
/// output element is produced by one thread in a fixed loop order, so the result is the same whether the
/// query came in a long prefill tile or alone in a decode step; chunks past a query's causal end are
/// masked to exactly zero weight and leave its state untouched.
/// </summary>
public static class PagedAttentionKernel
{
    public static void Run<TKv>(ArrayView<float> q, TKv kCache, TKv vCache, ArrayView<float> output,
        ArrayView<int> tiles, ArrayView<int> positions, ArrayView<int> blockTables, AttentionArgs a) where TKv : struct, IKvView
    {
        int tid = Group.IdxX;
        int nThreads = Group.DimX;
        int d = a.HeadDim;
        int ratio = a.Ratio;
        int rows = a.QueryRows;
        int kc = a.KeyChunk;
        int kvh = Grid.IdxY;
        int seq = tiles[Grid.IdxX * 3];
        int start = tiles[Grid.IdxX * 3 + 1];
        int count = tiles[Grid.IdxX * 3 + 2];
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

        // Query rows are (token in tile, head in group); rows past the tile's tokens stay zero and masked.
        for (int e = tid; e < rows * d; e += nThreads)
        {
            int r = e / d;
            int c = e - r * d;
            int tt = r / ratio;
            int h = kvh * ratio + (r - tt * ratio);
            qs[e] = tt < count ? q[(long)(start + tt) * qDim + h * d + c] : 0f;
            acc[e] = 0f;
        }
        for (int r = tid; r < rows; r += nThreads)
        {
            rowMax[r] = float.NegativeInfinity;
            rowSum[r] = 0f;
        }
        // The last token of the tile has the longest causal context.
        int ctxEnd = positions[start + count - 1] + 1;
        int chunks = (ctxEnd + kc - 1) / kc;
        int chunksPerBlock = a.BlockSize / kc;
        long tableBase = (long)seq * a.MaxBlocksPerSeq;
        Group.Barrier();

        for (int ch = 0; ch < chunks; ch++)
        {
            int b = ch / chunksPerBlock;
            int block = blockTables[tableBase + b];
            int key0 = ch * kc;
            long slot0 = (long)block * a.BlockSize + (ch - b * chunksPerBlock) * kc;
            for (int e = tid; e < kc * d; e += nThreads)
            {
                int j = e / d;
                int c = e - j * d;
                long src = (slot0 + j) * kvDim + kvh * d + c;
                bool inContext = key0 + j < ctxEnd;
                ks[e] = inContext ? kCache.Load(src) : 0f;
                vs[e] = inContext ? vCache.Load(src) : 0f;
            }
            Group.Barrier();

            for (int e = tid; e < live * kc; e += nThreads)
            {
                int r = e / kc;
                int j = e - r * kc;
                int tt = r / ratio;
                int ctx = tt < count ? positions[start + tt] + 1 : 0;
                float s = float.NegativeInfinity;
                if (key0 + j < ctx)
                {
                    float dot = 0f;
                    for (int c = 0; c < d; c++) dot += qs[r * d + c] * ks[j * d + c];
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
                float o = acc[e] * rowCorr[r];
                for (int j = 0; j < kc; j++) o += p[r * kc + j] * vs[j * d + c];
                acc[e] = o;
            }
            Group.Barrier();
        }

        for (int e = tid; e < live * d; e += nThreads)
        {
            int r = e / d;
            int c = e - r * d;
            int tt = r / ratio;
            int h = kvh * ratio + (r - tt * ratio);
            output[(long)(start + tt) * qDim + h * d + c] = acc[e] * (1f / rowSum[r]);
        }
    }
}
