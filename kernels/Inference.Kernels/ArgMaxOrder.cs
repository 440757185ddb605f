namespace Inference.Kernels;

/// <summary>
/// The order <see cref="System.Numerics.Tensors.TensorPrimitives.IndexOfMax{T}(ReadOnlySpan{T})"/> picks by, which
/// greedy sampling uses: NaN above everything, then by value with +0 above -0, equal values to the lower index. It is
/// a strict total order on (value, index) pairs, so any reduction tree (a GPU group's) finds the same winner.
/// </summary>
public static class ArgMaxOrder
{
    /// <summary>True when (v, i) wins over (w, j).</summary>
    public static bool Precedes(float v, int i, float w, int j)
    {
        bool vn = float.IsNaN(v), wn = float.IsNaN(w);
        if (vn || wn) return vn && (!wn || i < j);
        if (v != w) return v > w;
        if (v == 0f)
        {
            bool vNeg = BitConverter.SingleToInt32Bits(v) < 0, wNeg = BitConverter.SingleToInt32Bits(w) < 0;
            if (vNeg != wNeg) return wNeg;
        }
        return i < j;
    }
}
