using System.Numerics.Tensors;

namespace Inference.Kernels.Cpu;

/// <summary>
/// Causal attention for one (token, kv head) pair over the paged cache: the query heads of the group walk
/// the sequence's blocks in order with an online softmax (running max and sum), so a query at position p
/// sees the same tiles in the same order whether it came in a prefill chunk or a decode step.
/// </summary>
internal readonly unsafe struct PagedAttentionJob(
    StepMetadata meta, int[] tokenSeq, CpuActivation q, CpuKvCache cache, int layer, AttentionShape shape, CpuActivation output)
    : IParallelJob
{
    public void Execute(int item)
    {
        int kvHeads = shape.NumKvHeads;
        int t = item / kvHeads;
        int kvh = item % kvHeads;
        int s = tokenSeq[t];
        int ctx = meta.Positions[t] + 1;
        int headDim = shape.HeadDim;
        int group = shape.NumHeads / kvHeads;
        int blockSize = cache.Shape.BlockSize;
        int kvDim = shape.KvDim;
        float* kBase = cache.K(layer);
        float* vBase = cache.V(layer);
        int tableBase = s * meta.MaxBlocksPerSeq;

        float* sp = stackalloc float[blockSize];
        var scores = new Span<float>(sp, blockSize);
        float* accP = stackalloc float[headDim];
        var acc = new Span<float>(accP, headDim);
        for (int g = 0; g < group; g++)
        {
            int h = kvh * group + g;
            float* qh = q.Row(t) + h * headDim;
            float m = float.NegativeInfinity;
            float l = 0f;
            acc.Clear();
            int numBlocks = (ctx + blockSize - 1) / blockSize;
            for (int b = 0; b < numBlocks; b++)
            {
                int block = meta.BlockTables[tableBase + b];
                int n = Math.Min(blockSize, ctx - b * blockSize);
                float* kb = kBase + ((long)block * blockSize) * kvDim + kvh * headDim;
                float* vb = vBase + ((long)block * blockSize) * kvDim + kvh * headDim;
                // Four keys per pass share the q loads; each score is reduced exactly as a lone Dot would.
                int j = 0;
                for (; j + 4 <= n; j += 4)
                {
                    float* k0 = kb + (long)j * kvDim;
                    SimdDot.Dot4(qh, k0, k0 + kvDim, k0 + 2 * kvDim, k0 + 3 * kvDim, headDim, sp + j);
                }
                for (; j < n; j++) sp[j] = SimdDot.Dot(qh, kb + (long)j * kvDim, headDim);
                var sc = scores[..n];
                TensorPrimitives.Multiply(sc, shape.Scale, sc);
                float bm = TensorPrimitives.Max(sc);
                float mNew = MathF.Max(m, bm);
                float corr = MathF.Exp(m - mNew);
                l *= corr;
                VecOps.Scale(accP, corr, headDim);
                // One vectorized exp over the block instead of a scalar exp per key.
                TensorPrimitives.Subtract(sc, mNew, sc);
                TensorPrimitives.Exp(sc, sc);
                for (j = 0; j < n; j++)
                {
                    float e = sp[j];
                    l += e;
                    VecOps.Axpy(e, vb + (long)j * kvDim, accP, headDim);
                }
                m = mNew;
            }
            float* o = output.Row(t) + h * headDim;
            float inv = 1f / l;
            for (int d = 0; d < headDim; d++) o[d] = accP[d] * inv;
        }
    }
}
