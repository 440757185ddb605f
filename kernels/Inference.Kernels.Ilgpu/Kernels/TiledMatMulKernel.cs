using ILGPU;

namespace Inference.Kernels.Ilgpu.Kernels;

/// <summary>
/// y = x W^T for prefill-sized batches: each group computes a TileRows x TileFeatures block of y. Per K tile the
/// group stages TileRows rows of x and TileFeatures rows of W, dequantized to F32 (the reader's format decides
/// how), in shared memory; each warp then owns a LaneRows x LaneFeatures register tile, every lane holding
/// partial sums for all of its 16 outputs.
/// Batch invariance: K is not cut into per-thread ranges. Lane j accumulates k = j, j + warp, j + 2 warp, ...
/// in increasing order (one FMA per step, <see cref="Fma.Mad"/>) and the lanes are then combined by
/// <see cref="LaneReduce"/>'s fixed shuffle tree: exactly the per-element order of <see cref="MatVecKernel"/>
/// and <see cref="MatMulKernel"/>. Which kernel the row count picks therefore never changes a bit of a row's
/// result; the tiles only change how often x and W are read from global memory.
/// </summary>
public static class TiledMatMulKernel
{
    public const int LaneRows = 4;
    public const int LaneFeatures = 4;

    public static void Run<TW>(ArrayView<float> x, TW w, ArrayView<float> y, GemmArgs a) where TW : struct, IWeightReader
    {
        int ws = Warp.WarpSize;
        int lane = Warp.LaneIdx;
        int warp = Warp.WarpIdx;
        int tid = Group.IdxX;
        int nThreads = Group.DimX;
        int k = w.Cols;
        int kt = a.KSteps * ws;
        int tileRows = a.TileRows;
        int tileFeatures = a.TileFeatures;
        int r0 = Grid.IdxY * tileRows;
        int f0 = Grid.IdxX * tileFeatures;
        // This warp's first row and feature inside the tile.
        int wr = warp / a.WarpFeatures * LaneRows;
        int wf = (warp - warp / a.WarpFeatures * a.WarpFeatures) * LaneFeatures;

        var shared = SharedMemory.GetDynamic<float>();
        var xs = shared.SubView(0, tileRows * kt);
        var wsm = shared.SubView(tileRows * kt, tileFeatures * kt);

        float a00 = 0f, a01 = 0f, a02 = 0f, a03 = 0f;
        float a10 = 0f, a11 = 0f, a12 = 0f, a13 = 0f;
        float a20 = 0f, a21 = 0f, a22 = 0f, a23 = 0f;
        float a30 = 0f, a31 = 0f, a32 = 0f, a33 = 0f;

        for (int k0 = 0; k0 < k; k0 += kt)
        {
            // Consecutive threads take consecutive k: coalesced reads; out-of-range entries are never summed.
            for (int e = tid; e < tileRows * kt; e += nThreads)
            {
                int r = e / kt;
                int kk = e - r * kt;
                int row = r0 + r;
                xs[e] = row < a.Rows && k0 + kk < k ? x[(long)row * k + k0 + kk] : 0f;
            }
            for (int e = tid; e < tileFeatures * kt; e += nThreads)
            {
                int f = e / kt;
                int kk = e - f * kt;
                int feature = f0 + f;
                wsm[e] = feature < a.OutFeatures && k0 + kk < k ? w.Load(feature, k0 + kk) : 0f;
            }
            Group.Barrier();

            for (int s = 0; s < a.KSteps; s++)
            {
                int kk = s * ws + lane;
                // The tail of K is skipped, not added as zeros: a zero product could flip the sign of a -0 sum.
                if (k0 + kk < k)
                {
                    float x0 = xs[(wr + 0) * kt + kk], x1 = xs[(wr + 1) * kt + kk], x2 = xs[(wr + 2) * kt + kk], x3 = xs[(wr + 3) * kt + kk];
                    float w0 = wsm[(wf + 0) * kt + kk], w1 = wsm[(wf + 1) * kt + kk], w2 = wsm[(wf + 2) * kt + kk], w3 = wsm[(wf + 3) * kt + kk];
                    a00 = Fma.Mad(x0, w0, a00); a01 = Fma.Mad(x0, w1, a01); a02 = Fma.Mad(x0, w2, a02); a03 = Fma.Mad(x0, w3, a03);
                    a10 = Fma.Mad(x1, w0, a10); a11 = Fma.Mad(x1, w1, a11); a12 = Fma.Mad(x1, w2, a12); a13 = Fma.Mad(x1, w3, a13);
                    a20 = Fma.Mad(x2, w0, a20); a21 = Fma.Mad(x2, w1, a21); a22 = Fma.Mad(x2, w2, a22); a23 = Fma.Mad(x2, w3, a23);
                    a30 = Fma.Mad(x3, w0, a30); a31 = Fma.Mad(x3, w1, a31); a32 = Fma.Mad(x3, w2, a32); a33 = Fma.Mad(x3, w3, a33);
                }
            }
            Group.Barrier();
        }

        int row0 = r0 + wr;
        int feat0 = f0 + wf;
        Store(y, a, row0 + 0, feat0, LaneReduce.Sum(a00), LaneReduce.Sum(a01), LaneReduce.Sum(a02), LaneReduce.Sum(a03));
        Store(y, a, row0 + 1, feat0, LaneReduce.Sum(a10), LaneReduce.Sum(a11), LaneReduce.Sum(a12), LaneReduce.Sum(a13));
        Store(y, a, row0 + 2, feat0, LaneReduce.Sum(a20), LaneReduce.Sum(a21), LaneReduce.Sum(a22), LaneReduce.Sum(a23));
        Store(y, a, row0 + 3, feat0, LaneReduce.Sum(a30), LaneReduce.Sum(a31), LaneReduce.Sum(a32), LaneReduce.Sum(a33));
    }

    private static void Store(ArrayView<float> y, GemmArgs a, int row, int feature, float v0, float v1, float v2, float v3)
    {
        if (Warp.LaneIdx != 0 || row >= a.Rows) return;
        long o = (long)row * a.OutFeatures + feature;
        if (feature < a.OutFeatures) y[o] = v0;
        if (feature + 1 < a.OutFeatures) y[o + 1] = v1;
        if (feature + 2 < a.OutFeatures) y[o + 2] = v2;
        if (feature + 3 < a.OutFeatures) y[o + 3] = v3;
    }
}
