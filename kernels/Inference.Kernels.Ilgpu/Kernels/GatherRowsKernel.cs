using ILGPU;

namespace Inference.Kernels.Ilgpu.Kernels;

/// <summary>dst[r] = src[rows[r]] (the rows that produce logits).</summary>
public static class GatherRowsKernel
{
    public static void Run(Index1D i, ArrayView<float> src, ArrayView<int> rows, ArrayView<float> dst, int cols)
    {
        int r = i / cols;
        int c = i - r * cols;
        dst[i] = src[(long)rows[r] * cols + c];
    }
}
