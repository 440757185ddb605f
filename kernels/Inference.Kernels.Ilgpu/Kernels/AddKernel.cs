using ILGPU;

namespace Inference.Kernels.Ilgpu.Kernels;

/// <summary>x[i] += y[i] (the residual add).</summary>
public static class AddKernel
{
    public static void Run(Index1D i, ArrayView<float> x, ArrayView<float> y) => x[i] += y[i];
}
