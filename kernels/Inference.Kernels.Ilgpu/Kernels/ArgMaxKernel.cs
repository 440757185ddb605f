using ILGPU;
using ILGPU.Algorithms;

namespace Inference.Kernels.Ilgpu.Kernels;

/// <summary>
/// Per row of x [rows, cols]: the column of the largest element and its value, in <see cref="ArgMaxOrder"/> (the
/// order of TensorPrimitives.IndexOfMax, so the greedy token equals the host sampler's). One group per row: each
/// thread scans a strided slice, warps fold by shuffles, warp winners meet in shared memory and the first warp
/// folds those. The order is total, so the tree's shape (warp size, group size) cannot change the winner.
/// result[2r] = column, result[2r + 1] = the value's bits, so one copy brings a step's tokens back.
/// </summary>
public static class ArgMaxKernel
{
    public static void Run(ArrayView<float> x, ArrayView<int> result, int cols)
    {
        var shared = SharedMemory.GetDynamic<int>();
        int tid = Group.IdxX;
        int warps = Group.DimX / Warp.WarpSize;
        int lane = Warp.LaneIdx;
        int warp = Warp.WarpIdx;
        long row = (long)Grid.IdxX * cols;
        // Loses to every real element, -inf included (same value, higher index).
        float best = float.NegativeInfinity;
        int bestIdx = int.MaxValue;
        for (int c = tid; c < cols; c += Group.DimX)
        {
            float v = x[row + c];
            if (Precedes(v, c, best, bestIdx)) { best = v; bestIdx = c; }
        }
        WarpFold(ref best, ref bestIdx);
        if (lane == 0)
        {
            shared[2 * warp] = (int)Interop.FloatAsInt(best);
            shared[2 * warp + 1] = bestIdx;
        }
        Group.Barrier();
        if (warp != 0) return;
        best = float.NegativeInfinity;
        bestIdx = int.MaxValue;
        if (lane < warps)
        {
            best = Interop.IntAsFloat((uint)shared[2 * lane]);
            bestIdx = shared[2 * lane + 1];
        }
        WarpFold(ref best, ref bestIdx);
        if (lane == 0)
        {
            result[2 * Grid.IdxX] = bestIdx;
            result[2 * Grid.IdxX + 1] = (int)Interop.FloatAsInt(best);
        }
    }

    private static void WarpFold(ref float best, ref int bestIdx)
    {
        // Lanes past the end get their own pair back from the shuffle, which never wins over itself.
        for (int d = Warp.WarpSize / 2; d > 0; d >>= 1)
        {
            float v = Warp.ShuffleDown(best, d);
            int i = Warp.ShuffleDown(bestIdx, d);
            if (Precedes(v, i, best, bestIdx)) { best = v; bestIdx = i; }
        }
    }

    /// <summary><see cref="ArgMaxOrder.Precedes"/> in device intrinsics.</summary>
    private static bool Precedes(float v, int i, float w, int j)
    {
        bool vn = XMath.IsNaN(v), wn = XMath.IsNaN(w);
        if (vn | wn) return vn & (!wn | i < j);
        if (v != w) return v > w;
        if (v == 0f)
        {
            bool vNeg = (int)Interop.FloatAsInt(v) < 0, wNeg = (int)Interop.FloatAsInt(w) < 0;
            if (vNeg != wNeg) return wNeg;
        }
        return i < j;
    }
}
