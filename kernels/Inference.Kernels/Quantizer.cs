using System.Runtime.Intrinsics;

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
    /// Group-wise int4 along Cols, two per byte (low nibble first), F16 scale per group. Symmetric: zero
    /// point 8, scale searched around the largest magnitude on -8 (llama.cpp's Q4_0 choice). With zero
    /// points: scale searched around min..max over 0..15.
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

    // Scale candidates as fractions of the plain one (the largest magnitude on -8, or min..max on 0..15):
    // a slightly smaller scale clips the extreme value but rounds the rest more finely, which is usually
    // the better trade (as llama.cpp's k-quants search). 1 comes first, so a tie keeps the plain choice.
    private static readonly float[] s_fractions = [1f, 0.98f, 0.96f, 0.94f, 0.92f, 0.90f, 0.88f, 0.86f, 0.84f, 0.82f, 0.80f, 1.02f];

    /// <summary>
    /// One group: among a fixed set of scales, the one with the least squared error after F16 rounding of
    /// the scale (and, symmetric, after a least-squares refit of the scale to the chosen codes).
    /// Deterministic, so quantizing at load and loading a saved folder give the same bytes.
    /// </summary>
    private static void Int4Group(ReadOnlySpan<float> v, byte* q, Half* scale, byte* zero)
    {
        float bestErr = float.PositiveInfinity, bestS = 0f;
        int bestZ = 8;
        if (zero == null)
        {
            float m = 0f;
            foreach (float f in v) if (MathF.Abs(f) > MathF.Abs(m)) m = f;
            foreach (float frac in s_fractions)
            {
                float s = (float)(Half)(m / -8f * frac);
                Consider(v, s, 8, ref bestErr, ref bestS, ref bestZ);
                // Least-squares scale for the codes this one picks: sum(v q) / sum(q q).
                var (vq, qq) = LeastSquaresSums(v, s == 0f ? 0f : 1f / s);
                if (qq > 0) Consider(v, (float)(Half)(float)(vq / qq), 8, ref bestErr, ref bestS, ref bestZ);
            }
        }
        else
        {
            float min = 0f, max = 0f; // include 0 so that it stays exactly representable
            foreach (float f in v) { min = MathF.Min(min, f); max = MathF.Max(max, f); }
            foreach (float frac in s_fractions)
            {
                float s = (float)(Half)((max - min) / 15f * frac);
                if (s == 0f) { Consider(v, 0f, 8, ref bestErr, ref bestS, ref bestZ); continue; }
                // Centre the shrunken range on the values: try the zero points that keep min or max in range.
                int zLow = Math.Clamp((int)MathF.Round(-min / s), 0, 15);
                int zHigh = Math.Clamp(15 - (int)MathF.Round(max / s), 0, 15);
                Consider(v, s, zLow, ref bestErr, ref bestS, ref bestZ);
                if (zHigh != zLow) Consider(v, s, zHigh, ref bestErr, ref bestS, ref bestZ);
            }
            *zero = (byte)bestZ;
        }
        *scale = (Half)bestS;
        float invBest = bestS == 0f ? 0f : 1f / bestS;
        for (int i = 0; i < v.Length; i += 2)
        {
            int a = Math.Clamp((int)MathF.Round(v[i] * invBest) + bestZ, 0, 15);
            int b = Math.Clamp((int)MathF.Round(v[i + 1] * invBest) + bestZ, 0, 15);
            q[i / 2] = (byte)(a | (b << 4));
        }
    }

    /// <summary>Squared error of the group quantized with scale s (already F16-exact) and zero point z; keeps the best.</summary>
    private static void Consider(ReadOnlySpan<float> v, float s, int z, ref float bestErr, ref float bestS, ref int bestZ)
    {
        float inv = s == 0f ? 0f : 1f / s;
        float err = 0f;
        int i = 0;
        // 16 lanes at a time (the search runs ~24 of these per group: scalar, a 1B model took a minute to
        // quantize). Codes are small integers, exact in F32, so a lane computes what the scalar loop does; only
        // the error's summation order differs, which can change the pick between near-equal candidates.
        if (Vector512.IsHardwareAccelerated && v.Length >= 16)
        {
            var vi = Vector512.Create(inv);
            var vs = Vector512.Create(s);
            var vz = Vector512.Create((float)z);
            var acc = Vector512<float>.Zero;
            for (; i + 16 <= v.Length; i += 16)
            {
                var f = Vector512.Create(v.Slice(i, 16));
                var c = Vector512.Clamp(Vector512.Round(f * vi) + vz, Vector512<float>.Zero, Vector512.Create(15f));
                var d = (c - vz) * vs - f;
                acc = Vector512.FusedMultiplyAdd(d, d, acc);
            }
            err = Vector512.Sum(acc);
        }
        for (; i < v.Length; i++)
        {
            int c = Math.Clamp((int)MathF.Round(v[i] * inv) + z, 0, 15);
            float d = (c - z) * s - v[i];
            err += d * d;
        }
        if (err < bestErr) { bestErr = err; bestS = s; bestZ = z; }
    }

    /// <summary>sum(v c) and sum(c c) for the symmetric codes c = clamp(round(v inv), -8, 7).</summary>
    private static (double Vq, double Qq) LeastSquaresSums(ReadOnlySpan<float> v, float inv)
    {
        double vq = 0, qq = 0;
        int i = 0;
        if (Vector512.IsHardwareAccelerated && v.Length >= 16)
        {
            var vi = Vector512.Create(inv);
            Vector512<float> a = default, b = default;
            for (; i + 16 <= v.Length; i += 16)
            {
                var f = Vector512.Create(v.Slice(i, 16));
                var c = Vector512.Clamp(Vector512.Round(f * vi), Vector512.Create(-8f), Vector512.Create(7f));
                a = Vector512.FusedMultiplyAdd(f, c, a);
                b = Vector512.FusedMultiplyAdd(c, c, b);
            }
            vq = Vector512.Sum(a);
            qq = Vector512.Sum(b);
        }
        for (; i < v.Length; i++)
        {
            int c = Math.Clamp((int)MathF.Round(v[i] * inv) + 8, 0, 15) - 8;
            vq += v[i] * c;
            qq += c * c;
        }
        return (vq, qq);
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
