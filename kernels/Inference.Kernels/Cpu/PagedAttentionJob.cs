using System.Numerics.Tensors;

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
        float* kBase = cache.K(layer);
        float* vBase = cache.V(layer);
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
            float* kBlock = kBase + ((long)block * blockSize) * kvDim;
            float* vBlock = vBase + ((long)block * blockSize) * kvDim;
            var sc = scores[..n];
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
                        float* k0 = kb + (long)j * kvDim;
                        SimdDot.Dot4(qh, k0, k0 + kvDim, k0 + 2 * kvDim, k0 + 3 * kvDim, headDim, sp + j);
                    }
                    for (; j < n; j++) sp[j] = SimdDot.Dot(qh, kb + (long)j * kvDim, headDim);
                    TensorPrimitives.Multiply(sc, shape.Scale, sc);
                    float m = mP[i];
                    float bm = TensorPrimitives.Max(sc);
                    float mNew = MathF.Max(m, bm);
                    float corr = MathF.Exp(m - mNew);
                    float l = lP[i] * corr;
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
