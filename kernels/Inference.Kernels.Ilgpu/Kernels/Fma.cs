using ILGPU.Runtime.Cuda;

namespace Inference.Kernels.Ilgpu.Kernels;

/// <summary>
/// a * b + c as one explicitly rounded fused multiply-add on CUDA (inline PTX <c>fma.rn.f32</c>) and as a
/// plain multiply and add elsewhere. ILGPU writes <c>mul.f32</c> / <c>add.f32</c> without a rounding
/// modifier, which ptxas may or may not contract into an FMA depending on the surrounding code; two kernels
/// meant to reduce an element identically (matvec and tiled GEMM, the attention kernel and the split-KV
/// merge) could then differ in the last bit. Spelling the FMA out takes that choice away from the compiler.
/// The CPU accelerator runs the kernels as .NET code, which never contracts, so its plain path is as exact.
/// </summary>
public static class Fma
{
    public static float Mad(float a, float b, float c)
    {
        if (CudaAsm.IsSupported)
        {
            CudaAsm.Emit("fma.rn.f32 %0, %1, %2, %3;", out float r, a, b, c);
            return r;
        }
        return a * b + c;
    }

    /// <summary>a * b, rounded on its own (PTX <c>mul.rn</c> is never contracted into a following add).</summary>
    public static float Mul(float a, float b)
    {
        if (CudaAsm.IsSupported)
        {
            CudaAsm.Emit("mul.rn.f32 %0, %1, %2;", out float r, a, b);
            return r;
        }
        return a * b;
    }
}
