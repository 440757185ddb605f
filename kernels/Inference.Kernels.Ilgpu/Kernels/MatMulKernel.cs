using ILGPU;

namespace Inference.Kernels.Ilgpu.Kernels;

/// <summary>
/// y = x W^T for a tile of <see cref="RowTile"/> rows per grid row: each warp owns one output feature and
/// loads each weight element once for all rows of the tile. Per element the order (lane partials in k
/// order, then the shuffle tree) is the one <see cref="MatVecKernel"/> uses: it depends only on K.
/// </summary>
public static class MatMulKernel
{
    public const int RowTile = 4;

    public static void Run<TW>(ArrayView<float> x, TW w, ArrayView<float> y, int rows, int outFeatures)
        where TW : struct, IWeightReader
    {
        int warps = Group.DimX / Warp.WarpSize;
        int o = Grid.IdxX * warps + Warp.WarpIdx;
        int r0 = Grid.IdxY * RowTile;
        int lane = Warp.LaneIdx;
        int k = w.Cols;
        int oc = o < outFeatures ? o : outFeatures - 1;
        // Rows past the end read the last row again; their results are dropped.
        long x0 = (long)r0 * k;
        long x1 = (long)(r0 + 1 < rows ? r0 + 1 : rows - 1) * k;
        long x2 = (long)(r0 + 2 < rows ? r0 + 2 : rows - 1) * k;
        long x3 = (long)(r0 + 3 < rows ? r0 + 3 : rows - 1) * k;
        float a0 = 0f, a1 = 0f, a2 = 0f, a3 = 0f;
        for (int c = lane; c < k; c += Warp.WarpSize)
        {
            float wv = w.Load(oc, c);
            a0 = Fma.Mad(x[x0 + c], wv, a0);
            a1 = Fma.Mad(x[x1 + c], wv, a1);
            a2 = Fma.Mad(x[x2 + c], wv, a2);
            a3 = Fma.Mad(x[x3 + c], wv, a3);
        }
        a0 = LaneReduce.Sum(a0);
        a1 = LaneReduce.Sum(a1);
        a2 = LaneReduce.Sum(a2);
        a3 = LaneReduce.Sum(a3);
        if (lane != 0 || o >= outFeatures) return;
        y[(long)r0 * outFeatures + o] = a0;
        if (r0 + 1 < rows) y[(long)(r0 + 1) * outFeatures + o] = a1;
        if (r0 + 2 < rows) y[(long)(r0 + 2) * outFeatures + o] = a2;
        if (r0 + 3 < rows) y[(long)(r0 + 3) * outFeatures + o] = a3;
    }
}
