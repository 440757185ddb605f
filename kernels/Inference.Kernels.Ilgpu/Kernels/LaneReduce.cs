using ILGPU;

namespace Inference.Kernels.Ilgpu.Kernels;

/// <summary>Sum over the lanes of a warp in a fixed tree order (result valid in lane 0).</summary>
public static class LaneReduce
{
    public static float Sum(float v)
    {
        for (int d = Warp.WarpSize / 2; d > 0; d >>= 1)
            v += Warp.ShuffleDown(v, d);
        return v;
    }
}
