using Inference.Kernels;
using Inference.Kernels.Cpu;
using Inference.Kernels.Reference;

namespace Inference.Tests.Cpu;

/// <summary>Int8/int4 matmuls against dequantize-then-multiply, and their batch invariance (both paths).</summary>
public sealed unsafe class QuantizedMatMulTests : IDisposable
{
    private readonly CpuBackend _b = new(threads: 2);

    public void Dispose() => _b.Dispose();

    private CpuActivation Act(int rows, int cols, float[]? data = null) => CpuTestTensors.Act(_b, rows, cols, data);

    private static float[] Read(CpuActivation a, int rows) => CpuTestTensors.Read(a, rows);

    private static HostWeight Quantized(string format, int outF, int k, int groupSize, int seed) =>
        CpuTestTensors.Quantized(format, outF, k, groupSize, seed);

    private static float[] Dense(HostWeight w)
    {
        var all = new float[w.ElementCount];
        for (int r = 0; r < w.Rows; r++) w.ReadRow(r, all.AsSpan(r * w.Cols, w.Cols));
        return all;
    }

    [Theory]
    [InlineData("int8", 0, 32, 8, 0)]
    [InlineData("int8", 1, 1, 1, 0)]
    [InlineData("int8", 1, 17, 5, 0)]
    [InlineData("int8", 3, 33, 13, 0)]
    [InlineData("int8", 4, 64, 8, 0)]
    [InlineData("int8", 5, 100, 37, 0)]
    [InlineData("int8", 9, 256, 70, 0)]
    [InlineData("int4", 1, 32, 4, 32)]
    [InlineData("int4", 2, 64, 7, 32)]
    [InlineData("int4", 7, 96, 13, 32)]
    [InlineData("int4", 1, 128, 9, 64)]
    [InlineData("int4", 6, 128, 9, 64)]
    [InlineData("int4", 3, 48, 5, 16)]
    [InlineData("int4", 5, 10, 3, 2)]
    [InlineData("int4z", 1, 64, 11, 32)]
    [InlineData("int4z", 8, 256, 21, 32)]
    public void MatchesDequantizedReference(string format, int rows, int k, int outF, int groupSize)
    {
        using var w = Quantized(format, outF, k, groupSize, 1 + k);
        var dense = Dense(w);
        var xs = TestData.Random(rows * k, 2 + rows);
        using var x = Act(rows, k, xs);
        using var y = Act(rows, outF);
        _b.MatMul(x, _b.LoadWeight(w), null, y, rows);
        var expected = new float[rows * outF];
        ReferenceOps.MatMul(xs, dense, default, expected, rows, k, outF);
        // K a multiple of 32 takes the int8-activation path (its rounding, not float order, sets the error).
        double tolerance = IntMatMul.Supports(w) ? 3e-2 : 1e-5;
        TestData.AssertClose(Read(y, rows), expected, tolerance, $"{format} matmul {rows}x{k}x{outF}");
    }

    [Theory]
    [InlineData("int8", 77, 43, 0)]
    [InlineData("int4", 96, 43, 32)]
    [InlineData("int4z", 128, 22, 64)]
    [InlineData("int4", 48, 9, 16)]
    // K a multiple of 32: the integer path (4-row tiles against single rows).
    [InlineData("int8", 96, 43, 0)]
    [InlineData("int8", 256, 70, 0)]
    [InlineData("int4", 128, 43, 32)]
    [InlineData("int4z", 192, 22, 64)]
    public void RowIsIndependentOfBatch(string format, int k, int outF, int groupSize)
    {
        using var w = Quantized(format, outF, k, groupSize, 5);
        CpuTestTensors.AssertRowsIndependentOfBatch(_b, w);
    }

    [Theory]
    [InlineData(1, 13)]
    [InlineData(8, 257)]
    public void Int8RoundTripIsWithinHalfAStep(int rows, int cols)
    {
        var v = TestData.Random(rows * cols, 9, 3f);
        using var f32 = HostWeight.FromFloats("w", rows, cols, v);
        using var q = Quantizer.ToInt8(f32);
        var d = Dense(q);
        for (int r = 0; r < rows; r++)
        {
            float scale = ((float*)q.Scales)[r];
            for (int i = 0; i < cols; i++) Assert.True(Math.Abs(d[r * cols + i] - v[r * cols + i]) <= scale * 0.5001f);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    // One step, not half: the extreme opposite the one that sets the scale can clamp (as in Q4_0).
    public void Int4RoundTripIsWithinOneStep(bool zeroPoints)
    {
        const int rows = 5, cols = 128, gs = 32;
        var v = TestData.Random(rows * cols, 10, 2f);
        using var f32 = HostWeight.FromFloats("w", rows, cols, v);
        using var q = Quantizer.ToInt4(f32, gs, zeroPoints);
        var d = Dense(q);
        for (int r = 0; r < rows; r++)
            for (int i = 0; i < cols; i++)
            {
                float scale = MathF.Abs((float)((Half*)q.Scales)[r * (cols / gs) + i / gs]);
                Assert.True(Math.Abs(d[r * cols + i] - v[r * cols + i]) <= scale * 1.0001f + 1e-6f, $"{r},{i}");
            }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Int4ScaleSearchIsNeverWorseThanThePlainScale(bool zeroPoints)
    {
        const int rows = 16, cols = 256, gs = 32;
        var v = TestData.Random(rows * cols, 12, 2f);
        for (int i = 0; i < v.Length; i += 37) v[i] *= 4f; // outliers: where a smaller scale pays off
        using var f32 = HostWeight.FromFloats("w", rows, cols, v);
        using var q = Quantizer.ToInt4(f32, gs, zeroPoints);
        var d = Dense(q);
        double searched = 0, plain = 0;
        for (int g = 0; g < rows * cols / gs; g++)
        {
            var group = v.AsSpan(g * gs, gs);
            double e = 0;
            for (int i = 0; i < gs; i++) e += Math.Pow(d[g * gs + i] - group[i], 2);
            double p = PlainError(group, zeroPoints);
            Assert.True(e <= p * (1 + 1e-6), $"group {g}: {e} > plain {p}");
            searched += e;
            plain += p;
        }
        Assert.True(searched < plain * 0.95, $"the search should gain on outlier groups: {searched} vs {plain}");
    }

    /// <summary>Squared error of the unsearched choice: largest magnitude on -8 (symmetric) or min..max on 0..15.</summary>
    private static double PlainError(ReadOnlySpan<float> v, bool zeroPoints)
    {
        float s;
        int z = 8;
        if (!zeroPoints)
        {
            float m = 0f;
            foreach (float f in v) if (MathF.Abs(f) > MathF.Abs(m)) m = f;
            s = (float)(Half)(m / -8f);
        }
        else
        {
            float min = 0f, max = 0f;
            foreach (float f in v) { min = MathF.Min(min, f); max = MathF.Max(max, f); }
            s = (float)(Half)((max - min) / 15f);
            z = s == 0f ? 8 : Math.Clamp((int)MathF.Round(-min / s), 0, 15);
        }
        float inv = s == 0f ? 0f : 1f / s;
        double e = 0;
        foreach (float f in v) e += Math.Pow((Math.Clamp((int)MathF.Round(f * inv) + z, 0, 15) - z) * s - f, 2);
        return e;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(6)]
    public void FusedMatMulEqualsSeparateCalls(int rows)
    {
        const int k = 64;
        using var w1 = Quantized("int8", 20, k, 0, 11);
        using var w2 = Quantized("int4", 9, k, 32, 12);
        using var w3 = HostWeight.FromFloats("w3", 7, k, TestData.Random(7 * k, 13));
        using var bias = HostWeight.FromFloats("b", 1, 9, TestData.Random(9, 14));
        using var x = Act(rows, k, TestData.Random(rows * k, 15));
        using CpuActivation y1 = Act(rows, 20), y2 = Act(rows, 9), y3 = Act(rows, 7), s1 = Act(rows, 20), s2 = Act(rows, 9), s3 = Act(rows, 7);
        IComputeBackend b = _b;
        b.MatMulFused(x, rows, b.LoadWeight(w1), null, y1, b.LoadWeight(w2), b.LoadWeight(bias), y2, b.LoadWeight(w3), null, y3);
        b.MatMul(x, b.LoadWeight(w1), null, s1, rows);
        b.MatMul(x, b.LoadWeight(w2), b.LoadWeight(bias), s2, rows);
        b.MatMul(x, b.LoadWeight(w3), null, s3, rows);
        Assert.Equal(Read(s1, rows), Read(y1, rows));
        Assert.Equal(Read(s2, rows), Read(y2, rows));
        Assert.Equal(Read(s3, rows), Read(y3, rows));
    }
}
