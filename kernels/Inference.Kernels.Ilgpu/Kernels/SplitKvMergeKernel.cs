using ILGPU;

namespace Inference.Kernels.Ilgpu.Kernels;

/// <summary>
/// Flash-decoding's second pass: for each split query token with more than one KV partition, folds the
/// partials that <see cref="PagedAttentionKernel"/> wrote (one per partition) in partition order with
/// <see cref="SoftmaxMerge"/>, exactly as the attention kernel folds them when one group walks all partitions,
/// and writes the normalized output. One group per (split slot, query head); threads over the head dimension.
/// </summary>
public static class SplitKvMergeKernel
{
    public static void Run(ArrayView<float> partials, ArrayView<int> splitRows, ArrayView<int> positions, ArrayView<float> output, AttentionArgs a)
    {
        int slot = Grid.IdxX;
        int h = Grid.IdxY;
        int d = a.HeadDim;
        int row = splitRows[slot];
        int parts = (positions[row] + 1 + a.PartitionKeys - 1) / a.PartitionKeys;
        // Single-partition tokens were written by the attention kernel itself.
        if (parts <= 1) return;
        long b0 = a.PartialBase(slot, h, 0);
        for (int c = Group.IdxX; c < d; c += Group.DimX)
        {
            float m = partials[b0 + d];
            float l = partials[b0 + d + 1];
            float o = partials[b0 + c];
            for (int pi = 1; pi < parts; pi++)
            {
                long pb = a.PartialBase(slot, h, pi);
                var mg = SoftmaxMerge.Of(m, l, partials[pb + d], partials[pb + d + 1]);
                o = mg.Output(o, partials[pb + c]);
                m = mg.Max;
                l = mg.Sum;
            }
            output[(long)row * a.NumHeads * d + h * d + c] = o * (1f / l);
        }
    }
}
