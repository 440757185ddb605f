using Inference.Kernels;
using Inference.Kernels.Cpu;
using Inference.Kernels.Reference;

namespace Inference.Tests.Cpu;

/// <summary>
/// The int8-activation integer matmul (int8 / int4 weights, K a multiple of 32) against a scalar model of
/// its arithmetic written here from the definition: bit for bit, for every tile shape and batch size.
/// </summary>
public sealed unsafe class IntMatMulTests : IDisposable
{
    private readonly CpuBackend _b = new(threads: 2);

    public void Dispose() => _b.Dispose();

    private CpuActivation Act(int rows, int cols, float[]? data = null) => CpuTestTensors.Act(_b, rows, cols, data);

    private static float[] Read(CpuActivation a, int rows) => CpuTestTensors.Read(a, rows);

    private static HostWeight Quantized(string format, int outF, int k, int groupSize, int seed) =>
        CpuTestTensors.Quantized(format, outF, k, groupSize, seed);

    /// <summary>
    /// The definition: per 32-block, scale = amax / 127 and q = round-half-even(x * (1 / scale)); for int4 the
    /// block's positions hold even elements then odd ones; lane l sums the exact products at positions
    /// 4l..4l+3; acc[l] = fma(lane, xScale (times the group scale for int4), acc[l]) over blocks in order;
    /// then ((a0+a4)+(a2+a6)) + ((a1+a5)+(a3+a7)), times the row scale for int8.
    /// </summary>
    private static float Expected(ReadOnlySpan<float> x, HostWeight w, int o)
    {
        int k = w.Cols;
        bool int4 = w.Format == WeightFormat.Int4;
        var dense = new int[k];
        for (int i = 0; i < k; i++)
        {
            long at = (long)o * k + i;
            if (!int4) { dense[i] = ((sbyte*)w.Data)[at]; continue; }
            int g = (int)((long)o * (k / w.GroupSize) + i / w.GroupSize);
            int zero = w.ZeroPoints == null ? 8 : w.ZeroPoints[g];
            dense[i] = ((((byte*)w.Data)[at / 2] >> (int)(at % 2 * 4)) & 15) - zero;
        }
        var acc = new float[8];
        for (int b = 0; b < k / 32; b++)
        {
            float amax = 0f;
            for (int i = 0; i < 32; i++) amax = Math.Max(amax, Math.Abs(x[b * 32 + i]));
            float scale = amax / 127f, inv = scale == 0f ? 0f : 1f / scale;
            float c = scale;
            if (int4) c *= (float)((Half*)w.Scales)[o * (k / w.GroupSize) + b * 32 / w.GroupSize];
            for (int l = 0; l < 8; l++)
            {
                int lane = 0;
                for (int t = 0; t < 4; t++)
                {
                    int p = 4 * l + t;
                    int e = b * 32 + (!int4 ? p : p < 16 ? 2 * p : 2 * (p - 16) + 1);
                    int q = Math.Clamp((int)MathF.Round(x[e] * inv, MidpointRounding.ToEven), -127, 127);
                    lane += q * dense[e];
                }
                acc[l] = MathF.FusedMultiplyAdd(lane, c, acc[l]);
            }
        }
        float sum = ((acc[0] + acc[4]) + (acc[2] + acc[6])) + ((acc[1] + acc[5]) + (acc[3] + acc[7]));
        return int4 ? sum : sum * ((float*)w.Scales)[o];
    }

    public static TheoryData<string, int, int, int, int> Shapes()
    {
        var d = new TheoryData<string, int, int, int, int>();
        int[] rowCounts = [0, 1, 2, 3, 4, 5, 7, 17];
        (string, int, int, int)[] weights =
        [
            ("int8", 32, 5, 0), ("int8", 64, 13, 0), ("int8", 96, 37, 0), ("int8", 160, 70, 0),
            ("int4", 32, 3, 32), ("int4", 96, 13, 32), ("int4", 160, 37, 32), ("int4", 128, 70, 64),
            ("int4z", 64, 5, 32), ("int4z", 96, 21, 32), ("int4z", 256, 37, 128),
        ];
        int i = 0;
        foreach (var (f, k, outF, gs) in weights)
            foreach (int rows in rowCounts)
                if ((i++ % 2 == 0) || rows is 1 or 4 or 17) d.Add(f, rows, k, outF, gs);
        return d;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void MatchesScalarDefinitionBitForBit(string format, int rows, int k, int outF, int groupSize)
    {
        using var w = Quantized(format, outF, k, groupSize, 31 * k + outF);
        // Without AVX-VNNI the backend keeps the widening path; the scalar definition is still tested below.
        if (!System.Runtime.Intrinsics.X86.AvxVnni.IsSupported) return;
        Assert.True(IntMatMul.Supports(w));
        // Varied magnitudes per block, an all-zero block and exact halves, so scales and rounding are exercised.
        var xs = TestData.Random(rows * k, 100 + rows, 3f);
        for (int i = 0; i < xs.Length; i++) if (i % 97 == 5) xs[i] *= 40f;
        if (rows > 0 && k >= 64) xs.AsSpan(32, 32).Clear();
        using var x = Act(rows, k, xs);
        using var y = Act(rows, outF);
        _b.MatMul(x, _b.LoadWeight(w), null, y, rows);
        var got = Read(y, rows);
        for (int r = 0; r < rows; r++)
            for (int o = 0; o < outF; o++)
            {
                float e = Expected(xs.AsSpan(r * k, k), w, o);
                Assert.True(BitConverter.SingleToInt32Bits(e) == BitConverter.SingleToInt32Bits(got[r * outF + o]),
                    $"{format} {rows}x{k}x{outF}: [{r},{o}] = {got[r * outF + o]:R}, expected {e:R}");
            }
    }

    [Theory]
    [InlineData("int4", 1, 96, 13, 32)]
    [InlineData("int4", 9, 160, 37, 32)]
    [InlineData("int4z", 1, 256, 21, 128)]
    [InlineData("int4z", 6, 64, 5, 32)]
    public void ScalesWidenedAtLoadGiveTheSameValues(string format, int rows, int k, int outF, int groupSize)
    {
        using var plain = Quantized(format, outF, k, groupSize, 7 * k + outF);
        using var widened = Quantized(format, outF, k, groupSize, 7 * k + outF);
        var xs = TestData.Random(rows * k, 5 + rows, 2f);
        using var x = Act(rows, k, xs);
        using var a = Act(rows, outF);
        using var b = Act(rows, outF);
        using var pool = new WorkerPool(2);
        MatMulKernel.Run(pool, x, plain, a, rows); // F16 scales widened per call
        _b.MatMul(x, _b.LoadWeight(widened), null, b, rows); // widened once, at load
        Assert.True(plain.WideScales == null);
        Assert.True(widened.WideScales != null);
        Assert.Equal(Bits(Read(a, rows)), Bits(Read(b, rows)));
    }

    private static int[] Bits(float[] v) => Array.ConvertAll(v, BitConverter.SingleToInt32Bits);

    [Theory]
    [InlineData("int8", 32, 1, 0)]
    [InlineData("int8", 96, 6, 0)]
    [InlineData("int4", 64, 5, 32)]
    [InlineData("int4z", 128, 3, 64)]
    public void ScalarFallbackGivesTheSameValues(string format, int k, int outF, int groupSize)
    {
        using var w = Quantized(format, outF, k, groupSize, 7);
        var xs = TestData.Random(k, 8, 2f);
        using var x = Act(1, k, xs);
        using var y = Act(1, outF);
        _b.MatMul(x, _b.LoadWeight(w), null, y, 1);
        var layout = format == "int8" ? BlockLayout.Natural : BlockLayout.Nibbles;
        var buf = new byte[ActivationQuantizer.RowBytes(k)];
        fixed (byte* p = buf)
        {
            var row = ActivationQuantizer.At(p, k, 0);
            ActivationQuantizer.Quantize(x.Data, k, row, layout);
            for (int o = 0; o < outF; o++)
                Assert.Equal(Read(y, 1)[o], IntDotScalar.Dot(row, w, o, layout));
        }
    }

    [Theory]
    [InlineData("int8")]
    [InlineData("int4")]
    [InlineData("int4z")]
    public void NarrowAndWideTilesAgree(string format)
    {
        // The 256-bit tile runs only where AVX-512 is missing; check it here against the one that runs.
        if (!System.Runtime.Intrinsics.X86.AvxVnni.IsSupported || !System.Runtime.Intrinsics.X86.Avx512F.IsSupported) return;
        const int k = 128, outF = 8;
        using var w = Quantized(format, outF, k, 32, 21);
        var layout = format == "int8" ? BlockLayout.Natural : BlockLayout.Nibbles;
        var xs = TestData.Random(4 * k, 22, 2f);
        var buf = new byte[4 * ActivationQuantizer.RowBytes(k)];
        float[] narrow = new float[4 * outF], wide = new float[4 * outF];
        fixed (float* px = xs)
        fixed (byte* pb = buf)
        fixed (float* pn = narrow, pw = wide)
        {
            var r = new QuantizedRow[4];
            for (int i = 0; i < 4; i++)
            {
                r[i] = ActivationQuantizer.At(pb, k, i);
                ActivationQuantizer.Quantize(px + i * k, k, r[i], layout);
            }
            for (int o = 0; o < outF; o += 4)
            {
                if (format == "int8")
                {
                    IntDotKernel.Tile4x4(new Int8Weights(w), r[0], r[1], r[2], r[3], o, k / 32, pn + o, outF);
                    IntDotKernel.Tile4x4Wide(new Int8Weights(w), r[0], r[1], r[2], r[3], o, k / 32, pw + o, outF);
                }
                else if (format == "int4")
                {
                    IntDotKernel.Tile4x4(new Int4Weights<Symmetric>(w, 0, outF), r[0], r[1], r[2], r[3], o, k / 32, pn + o, outF);
                    IntDotKernel.Tile4x4Wide(new Int4Weights<Symmetric>(w, 0, outF), r[0], r[1], r[2], r[3], o, k / 32, pw + o, outF);
                }
                else
                {
                    IntDotKernel.Tile4x4(new Int4Weights<WithZeroPoints>(w, 0, outF), r[0], r[1], r[2], r[3], o, k / 32, pn + o, outF);
                    IntDotKernel.Tile4x4Wide(new Int4Weights<WithZeroPoints>(w, 0, outF), r[0], r[1], r[2], r[3], o, k / 32, pw + o, outF);
                }
            }
            for (int i = 0; i < 4; i++)
                for (int o = 0; o < outF; o++)
                    Assert.Equal(IntDotScalar.Dot(r[i], w, o, layout), narrow[i * outF + o]);
        }
        Assert.Equal(narrow, wide);
    }

    [Theory]
    [InlineData("int8", 5, 256, 40, 0)]
    [InlineData("int8", 17, 768, 33, 0)]
    [InlineData("int4", 3, 512, 29, 32)]
    [InlineData("int4z", 9, 256, 18, 32)]
    public void CloseToDequantizedF32(string format, int rows, int k, int outF, int groupSize)
    {
        using var w = Quantized(format, outF, k, groupSize, 9);
        var dense = new float[w.ElementCount];
        for (int r = 0; r < w.Rows; r++) w.ReadRow(r, dense.AsSpan(r * k, k));
        var xs = TestData.Random(rows * k, 10);
        using var x = Act(rows, k, xs);
        using var y = Act(rows, outF);
        _b.MatMul(x, _b.LoadWeight(w), null, y, rows);
        var expected = new float[rows * outF];
        ReferenceOps.MatMul(xs, dense, default, expected, rows, k, outF);
        // Activation rounding adds at most scale/2 per element, independent errors: well under 1% of the largest output.
        TestData.AssertClose(Read(y, rows), expected, 1e-2, $"{format} {rows}x{k}x{outF}");
    }

    [Theory]
    [InlineData("int8", 1)]
    [InlineData("int4", 1)]
    [InlineData("int4z", 8)]
    public void SteadyStateCallsAllocateNothing(string format, int rows)
    {
        const int k = 256, outF = 40;
        using var w = Quantized(format, outF, k, 32, 3);
        var dw = _b.LoadWeight(w);
        using var x = Act(rows, k, TestData.Random(rows * k, 4));
        using var y = Act(rows, outF);
        for (int i = 0; i < 3; i++) _b.MatMul(x, dw, null, y, rows); // buffers grow once
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 20; i++) _b.MatMul(x, dw, null, y, rows);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void QuantizedRowDependsOnlyOnItsValues()
    {
        const int k = 64;
        var xs = TestData.Random(k, 3);
        var a = new byte[ActivationQuantizer.RowBytes(k)];
        var b = new byte[ActivationQuantizer.RowBytes(k)];
        fixed (float* px = xs)
        fixed (byte* pa = a, pb = b)
        {
            ActivationQuantizer.Quantize(px, k, ActivationQuantizer.At(pa, k, 0), BlockLayout.Natural);
            ActivationQuantizer.Quantize(px, k, ActivationQuantizer.At(pb, k, 0), BlockLayout.Natural);
            var q = ActivationQuantizer.At(pa, k, 0);
            for (int i = 0; i < k; i++) Assert.InRange(q.Q[i], -127, 127);
            Assert.Equal(127, Math.Abs(q.Q[Array.IndexOf(xs, xs[..32].MaxBy(Math.Abs))]));
        }
        Assert.Equal(a, b);
    }
}
