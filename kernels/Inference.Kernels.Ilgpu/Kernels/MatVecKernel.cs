using ILGPU;

namespace Inference.Kernels.Ilgpu.Kernels;

/// <summary>
/// y[r, o] = sum_k x[r, k] W[o, k] for one row per grid row: each warp owns one output feature, lane j sums
/// k = j, j + warp, ... in order (one explicit FMA per step) and the lanes combine by a fixed shuffle tree.
/// <see cref="MatMulKernel"/> and <see cref="TiledMatMulKernel"/> reduce in exactly this order, so a row's
/// result does not depend on which kernel the batch size chose.
/// </summary>
public static class MatVecKernel
{
    public static void Run<TW>(ArrayView<float> x, TW w, ArrayView<float> y, int outFeatures)
        where TW : struct, IWeightReader
    {
        int warps = Group.DimX / Warp.WarpSize;
        int o = Grid.IdxX * warps + Warp.WarpIdx;
        int r = Grid.IdxY;
        int lane = Warp.LaneIdx;
        int k = w.Cols;
        // Out-of-range warps still join the shuffles below, computing on a clamped row.
        int oc = o < outFeatures ? o : outFeatures - 1;
        long xr = (long)r * k;
        float acc = 0f;
        for (int c = lane; c < k; c += Warp.WarpSize)
            acc = Fma.Mad(x[xr + c], w.Load(oc, c), acc);
        acc = LaneReduce.Sum(acc);
        if (lane == 0 && o < outFeatures) y[(long)r * outFeatures + o] = acc;
    }
}
