namespace Inference.Kernels;

/// <summary>
/// Weight-only quantization of F32/F16/BF16 matrices into the <see cref="WeightFormat.Int8"/> and
/// <see cref="WeightFormat.Int4"/> layouts. Deterministic (same input, same bytes), so quantizing at load
/// and loading a saved quantized folder give identical weights.
/// </summary>
public static unsafe class Quantizer
{
    /// <summary>Symmetric int8 with one F32 scale per output row: q = round(v / (max|v| / 127)).</summary>
    public static HostWeight ToInt8(HostWeight src)
    {
        int rows = src.Rows, cols = src.Cols;
        var data = new NativeBuffer((long)rows * cols);
        var scales = new NativeBuffer(rows * 4L);
        sbyte* q = (sbyte*)data.Pointer;
        float* s = (float*)scales.Pointer;
        Parallel.For(0, rows, () => new float[cols], (r, _, row) =>
        {
            src.ReadRow(r, row);
            s[r] = Int8Row(row, q + (long)r * cols);
            return row;
        }, _ => { });
        return new HostWeight(src.Name, WeightFormat.Int8, rows, cols, q, s, owner: new Owner(data, scales));
    }

    /// <summary>Quantizes one row; returns its scale.</summary>
    public static float Int8Row(ReadOnlySpan<float> v, sbyte* q)
    {
        float max = 0f;
        foreach (float f in v) max = MathF.Max(max, MathF.Abs(f));
        float scale = max / 127f;
        float inv = scale == 0f ? 0f : 1f / scale;
        for (int i = 0; i < v.Length; i++) q[i] = (sbyte)Math.Clamp((int)MathF.Round(v[i] * inv), -127, 127);
        return scale;
    }

    /// <summary>
    /// Group-wise int4 along Cols, two per byte (low nibble first), F16 scale per group. Symmetric: the
    /// largest-magnitude value maps to -8 (zero point 8, as llama.cpp's Q4_0). With zero points: min..max
    /// over 0..15.
    /// </summary>
    public static HostWeight ToInt4(HostWeight src, int groupSize, bool zeroPoints)
    {
        int rows = src.Rows, cols = src.Cols;
        if (groupSize <= 0 || cols % groupSize != 0 || groupSize % 2 != 0)
            throw new ArgumentException($"{src.Name}: {cols} columns do not split into int4 groups of {groupSize}");
        int groups = cols / groupSize;
        var data = new NativeBuffer((long)rows * cols / 2);
        var scales = new NativeBuffer((long)rows * groups * 2);
        var zeros = zeroPoints ? new NativeBuffer((long)rows * groups) : null;
        byte* q = data.Pointer;
        Half* s = (Half*)scales.Pointer;
        byte* z = zeros is null ? null : zeros.Pointer;
        Parallel.For(0, rows, () => new float[cols], (r, _, row) =>
        {
            src.ReadRow(r, row);
            for (int g = 0; g < groups; g++)
                Int4Group(row.AsSpan(g * groupSize, groupSize), q + ((long)r * cols + g * groupSize) / 2,
                    s + (long)r * groups + g, z == null ? null : z + (long)r * groups + g);
            return row;
        }, _ => { });
        return new HostWeight(src.Name, WeightFormat.Int4, rows, cols, q, s, z, groupSize, new Owner(data, scales, zeros));
    }

    private static void Int4Group(ReadOnlySpan<float> v, byte* q, Half* scale, byte* zero)
    {
        float s;
        int zp;
        if (zero == null)
        {
            float m = 0f;
            foreach (float f in v) if (MathF.Abs(f) > MathF.Abs(m)) m = f;
            s = (float)(Half)(m / -8f);
            zp = 8;
        }
        else
        {
            float min = 0f, max = 0f; // include 0 so that it stays exactly representable
            foreach (float f in v) { min = MathF.Min(min, f); max = MathF.Max(max, f); }
            s = (float)(Half)((max - min) / 15f);
            zp = s == 0f ? 8 : Math.Clamp((int)MathF.Round(-min / s), 0, 15);
            *zero = (byte)zp;
        }
        *scale = (Half)s;
        float inv = s == 0f ? 0f : 1f / s;
        for (int i = 0; i < v.Length; i += 2)
        {
            int a = Math.Clamp((int)MathF.Round(v[i] * inv) + zp, 0, 15);
            int b = Math.Clamp((int)MathF.Round(v[i + 1] * inv) + zp, 0, 15);
            q[i / 2] = (byte)(a | (b << 4));
        }
    }

    /// <summary>Frees the buffers of a quantized weight together.</summary>
    private sealed class Owner(params NativeBuffer?[] buffers) : IDisposable
    {
        public void Dispose()
        {
            foreach (var b in buffers) b?.Dispose();
        }
    }
}
