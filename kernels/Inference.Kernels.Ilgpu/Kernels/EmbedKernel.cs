using ILGPU;

namespace Inference.Kernels.Ilgpu.Kernels;

/// <summary>output[t, c] = table[tokenIds[t], c], dequantizing the table row in place.</summary>
public static class EmbedKernel
{
    public static void Run<TW>(Index1D i, ArrayView<int> tokenIds, TW table, ArrayView<float> output)
        where TW : struct, IWeightReader
    {
        int cols = table.Cols;
        int t = i / cols;
        int c = i - t * cols;
        output[i] = table.Load(tokenIds[t], c);
    }
}
