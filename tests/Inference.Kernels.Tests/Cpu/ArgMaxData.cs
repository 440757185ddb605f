using System.Numerics.Tensors;

namespace Inference.Tests;

/// <summary>Logit rows (for the tests and the GPU check) that stress argmax's tie-breaking: few distinct values (many equal maxima), -inf, ±0, NaN.</summary>
public static class ArgMaxData
{
    /// <summary>
    /// rows x cols values. Row kinds cycle by row index: coarse values with ties, all -inf, only ±0, then (with
    /// <paramref name="nans"/>) NaNs among coarse values; the rest are plain random floats.
    /// </summary>
    public static float[] Rows(int rows, int cols, int seed, bool nans = true)
    {
        var r = new Random(seed);
        var a = new float[rows * cols];
        for (int row = 0; row < rows; row++)
        {
            var x = a.AsSpan(row * cols, cols);
            int kind = row % (nans ? 5 : 4);
            for (int c = 0; c < cols; c++)
            {
                x[c] = kind switch
                {
                    0 => r.Next(4) == 0 ? float.NegativeInfinity : r.Next(-3, 3) * 0.25f,
                    1 => float.NegativeInfinity,
                    2 => r.Next(2) == 0 ? -0f : 0f,
                    3 => (float)(r.NextDouble() * 20 - 10),
                    _ => r.Next(7) == 0 ? float.NaN : r.Next(-2, 3) * 0.5f,
                };
            }
            // The maximum again near the end, so the first of equal maxima must win over a later one.
            if (kind == 0 && cols > 2) x[cols - 1] = TensorPrimitives.Max<float>(x);
        }
        return a;
    }

    /// <summary>The greedy sampler's pick per row (TensorPrimitives.IndexOfMax) and the value there.</summary>
    public static (int[] Indices, float[] Values) Expected(float[] a, int rows, int cols)
    {
        var idx = new int[rows];
        var val = new float[rows];
        for (int r = 0; r < rows; r++)
        {
            var x = a.AsSpan(r * cols, cols);
            idx[r] = TensorPrimitives.IndexOfMax<float>(x);
            val[r] = x[idx[r]];
        }
        return (idx, val);
    }

    /// <summary>Equal bit for bit (NaN equals NaN, -0 differs from +0).</summary>
    public static bool SameBits(float[] expected, float[] actual)
    {
        if (expected.Length != actual.Length) return false;
        for (int i = 0; i < expected.Length; i++)
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i])) return false;
        return true;
    }
}
