using ILGPU;
using ILGPU.Algorithms;

namespace Inference.Kernels.Ilgpu.Kernels;

/// <summary>
/// y[r] = x[r] / sqrt(mean(x[r]^2) + eps) * w: one group per row, strided partial sums reduced by a fixed
/// shared-memory tree (power-of-two group), so a row's result never depends on the other rows.
/// </summary>
public static class RmsNormKernel
{
    public static void Run<TW>(ArrayView<float> x, TW weight, ArrayView<float> y, int cols, float eps)
        where TW : struct, IWeightReader
    {
        var partial = SharedMemory.GetDynamic<float>();
        int tid = Group.IdxX;
        int n = Group.DimX;
        long row = (long)Grid.IdxX * cols;
        float ss = 0f;
        for (int c = tid; c < cols; c += n)
        {
            float v = x[row + c];
            ss += v * v;
        }
        partial[tid] = ss;
        Group.Barrier();
        for (int s = n / 2; s > 0; s >>= 1)
        {
            if (tid < s) partial[tid] += partial[tid + s];
            Group.Barrier();
        }
        float inv = 1f / XMath.Sqrt(partial[0] / cols + eps);
        for (int c = tid; c < cols; c += n)
            y[row + c] = x[row + c] * inv * weight.Load(0, c);
    }
}
