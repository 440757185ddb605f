using ILGPU;
using ILGPU.Algorithms;

namespace Inference.Kernels.Ilgpu.Kernels;

/// <summary>out[i] = silu(gate[i]) * up[i] (SwiGLU).</summary>
public static class SiluMulKernel
{
    public static void Run(Index1D i, ArrayView<float> gate, ArrayView<float> up, ArrayView<float> output)
    {
        float g = gate[i];
        output[i] = g / (1f + XMath.Exp(-g)) * up[i];
    }
}
