using Inference.Kernels;
using Inference.Kernels.Cpu;
using Inference.Kernels.Reference;

namespace Inference.Tests.Cpu;

/// <summary>
/// The int8-activation integer matmul (int8 / int4 weights, K a multiple of 32) against a scalar model of
/// its arithmetic written here from the definition: bit for bit, for every tile shape, batch size and
/// output count (whole and cut sixteen-row units).
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
    /// The definition: per 32-block, scale = amax / 127 and q = round-half-even(x * (1 / scale)); the block's
    /// exact integer dot of q with the signed weights; acc = fma(dot, c, acc) over blocks in order from 0, with
    /// c = scale (int8) or scale times the group's F16 scale (int4); then, for int8, times the row scale.
    /// </summary>
    private static float Expected(ReadOnlySpan<float> x, HostWeight w, int o)
    {
        int k = w.Cols;
        bool int4 = w.Format == WeightFormat.Int4;
        float acc = 0f;
        for (int b = 0; b < k / 32; b++)
        {
            float amax = 0f;
            for (int i = 0; i < 32; i++) amax = Math.Max(amax, Math.Abs(x[b * 32 + i]));
            float scale = amax / 127f, inv = scale == 0f ? 0f : 1f / scale;
            int dot = 0;
            for (int i = b * 32; i < b * 32 + 32; i++)
                dot += Math.Clamp((int)MathF.Round(x[i] * inv, MidpointRounding.ToEven), -127, 127) * SignedWeight(w, o, i);
            float c = int4 ? scale * (float)((Half*)w.Scales)[o * (k / w.GroupSize) + b * 32 / w.GroupSize] : scale;
            acc = MathF.FusedMultiplyAdd(dot, c, acc);
        }
        return int4 ? acc : acc * ((float*)w.Scales)[o];
    }

    /// <summary>Weight (o, i) as a signed integer: the int8 value, or the int4 nibble minus its zero point.</summary>
    private static int SignedWeight(HostWeight w, int o, int i)
    {
        long at = (long)o * w.Cols + i;
        if (w.Format == WeightFormat.Int8) return ((sbyte*)w.Data)[at];
        int g = (int)((long)o * (w.Cols / w.GroupSize) + i / w.GroupSize);
        int zero = w.ZeroPoints == null ? 8 : w.ZeroPoints[g];
        return ((((byte*)w.Data)[at / 2] >> (int)(at % 2 * 4)) & 15) - zero;
    }

    public static TheoryData<string, int, int, int, int> Shapes()
    {
        var d = new TheoryData<string, int, int, int, int>();
        int[] rowCounts = [0, 1, 2, 3, 4, 5, 7, 17];
        (string, int, int, int)[] weights =
        [
            ("int8", 32, 5, 0), ("int8", 64, 13, 0), ("int8", 96, 37, 0), ("int8", 160, 70, 0),
            ("int4", 32, 3, 32), ("int4", 96, 13, 32), ("int4", 160, 37, 32), ("int4", 128, 70, 64),
            ("int4z", 64, 5, 32), ("int4z", 96, 21, 32), ("int4z", 256, 37, 128), ("int4", 192, 19, 96), ("int8", 64, 300, 0),
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
    [InlineData("int8", 5, 64, 29, 0)]
    public void PackedOnFirstUseEqualsPackedAtLoad(string format, int rows, int k, int outF, int groupSize)
    {
        using var lazy = Quantized(format, outF, k, groupSize, 7 * k + outF);
        using var loaded = Quantized(format, outF, k, groupSize, 7 * k + outF);
        var xs = TestData.Random(rows * k, 5 + rows, 2f);
        using var x = Act(rows, k, xs);
        using var a = Act(rows, outF);
        using var b = Act(rows, outF);
        using var pool = new WorkerPool(2);
        MatMulKernel.Run(pool, x, lazy, a, rows); // packed by the first band that needs it
        _b.MatMul(x, _b.LoadWeight(loaded), null, b, rows); // packed at load
        Assert.Equal(Bits(Read(a, rows)), Bits(Read(b, rows)));
    }

    private static int[] Bits(float[] v) => Array.ConvertAll(v, BitConverter.SingleToInt32Bits);

    /// <summary>The interleaved copy read back by its documented layout gives every weight, scale and zero point.</summary>
    [Theory]
    [InlineData("int8", 64, 13, 0)]
    [InlineData("int8", 32, 40, 0)]
    [InlineData("int4", 96, 21, 32)]
    [InlineData("int4", 128, 8, 64)]
    [InlineData("int4z", 256, 35, 128)]
    public void PackedLayoutHoldsEveryWeight(string format, int k, int outF, int groupSize)
    {
        using var w = Quantized(format, outF, k, groupSize, 11);
        var p = w.Interleaved;
        bool int4 = format != "int8";
        Assert.Equal(k / 32, p.Blocks);
        for (int o = 0; o < outF; o++)
        {
            int u = o / 16, half = o % 16 / 8, r = o % 8;
            for (int i = 0; i < k; i++)
            {
                int b = i / 32, e = i % 32, v = e / 4, t = e % 4;
                byte* block = p.Data + ((long)u * p.Blocks + b) * 2 * p.HalfBytes + half * p.HalfBytes;
                int stored = int4 ? (block[32 * (v & 3) + 4 * r + t] >> (v >= 4 ? 4 : 0)) & 15 : block[32 * v + 4 * r + t];
                int zero = !int4 ? 128 : w.ZeroPoints == null ? 8 : w.ZeroPoints[o * (k / groupSize) + i / groupSize];
                Assert.True(stored - zero == SignedWeight(w, o, i), $"{format} weight ({o}, {i})");
            }
            for (int b = 0; b < k / 32; b++)
            {
                long meta = ((long)u * p.Blocks + b) * 16 + o % 16;
                float expected = int4 ? (float)((Half*)w.Scales)[o * (k / groupSize) + b * 32 / groupSize] : ((float*)w.Scales)[o];
                Assert.Equal(expected, int4 ? p.Scales[meta] : p.Scales[u * 16 + o % 16]);
                if (w.ZeroPoints != null) Assert.Equal(w.ZeroPoints[o * (k / groupSize) + b * 32 / groupSize], p.ZeroPoints[meta]);
            }
        }
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
        long rb = ActivationQuantizer.RowBytes(k);
        var xs = TestData.Random(3 * k, 3);
        var alone = new byte[rb];
        var batch = new byte[3 * rb];
        fixed (float* px = xs)
        fixed (byte* pa = alone, pb = batch)
        {
            // Row 2 of a three-row batch against the same values quantized alone, into another buffer.
            for (int r = 0; r < 3; r++) ActivationQuantizer.Quantize(px + r * k, k, ActivationQuantizer.At(pb, k, r));
            ActivationQuantizer.Quantize(px + 2 * k, k, ActivationQuantizer.At(pa, k, 0));
            var q = ActivationQuantizer.At(pa, k, 0);
            for (int i = 0; i < k; i++) Assert.InRange(q.Q[i], -127, 127);
            Assert.Equal(127, Math.Abs(q.Q[Array.IndexOf(xs, xs[(2 * k)..(2 * k + 32)].MaxBy(Math.Abs)) - 2 * k]));
            for (int block = 0; block < k / 32; block++)
            {
                int sum = 0;
                for (int i = 0; i < 32; i++) sum += q.Q[block * 32 + i];
                Assert.Equal(sum, q.Sums[block]);
            }
        }
        Assert.Equal(alone, batch.AsSpan((int)(2 * rb), (int)rb).ToArray());
    }
}
