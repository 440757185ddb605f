using ILGPU;

namespace Inference.Kernels.Ilgpu.Kernels;

/// <summary>y[r, o] += bias[o]; added after the full dot product, as the CPU backend does.</summary>
public static class AddBiasKernel
{
    public static void Run<TW>(Index1D i, ArrayView<float> y, TW bias, int cols) where TW : struct, IWeightReader
    {
        y[i] += bias.Load(0, i % cols);
    }
}
