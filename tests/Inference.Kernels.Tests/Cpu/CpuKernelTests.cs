using Inference.Kernels;
using Inference.Kernels.Cpu;
using Inference.Kernels.Reference;

namespace Inference.Tests.Cpu;

public sealed unsafe class CpuKernelTests : IDisposable
{
    private readonly CpuBackend _b = new(threads: 2);

    public void Dispose() => _b.Dispose();

    private CpuActivation Act(int rows, int cols, float[]? data = null) => CpuTestTensors.Act(_b, rows, cols, data);

    private static float[] Read(CpuActivation a, int rows) => CpuTestTensors.Read(a, rows);

    private static HostWeight Weight(float[] w, int rows, int cols, WeightFormat format, out float[] dense)
    {
        var f32 = HostWeight.FromFloats("w", rows, cols, w);
        if (format == WeightFormat.F32) { dense = w; return f32; }
        var buf = new NativeBuffer((long)rows * cols * 2);
        var dst = buf.AsSpan<ushort>();
        for (int i = 0; i < w.Length; i++)
            dst[i] = format == WeightFormat.F16 ? BitConverter.HalfToUInt16Bits((Half)w[i]) : (ushort)(BitConverter.SingleToUInt32Bits(w[i]) >> 16);
        f32.Dispose();
        var hw = new HostWeight("w", format, rows, cols, buf.Pointer, owner: buf);
        dense = ReferenceDense(hw);
        return hw;
    }

    private static float[] ReferenceDense(HostWeight w)
    {
        var all = new float[w.ElementCount];
        for (int r = 0; r < w.Rows; r++) w.ReadRow(r, all.AsSpan(r * w.Cols, w.Cols));
        return all;
    }

    [Theory]
    [InlineData(0, 16, 8, WeightFormat.F32)]
    [InlineData(1, 1, 1, WeightFormat.F32)]
    [InlineData(1, 17, 5, WeightFormat.F32)]
    [InlineData(3, 33, 13, WeightFormat.F32)]
    [InlineData(7, 64, 64, WeightFormat.F32)]
    [InlineData(5, 100, 37, WeightFormat.F16)]
    [InlineData(4, 129, 30, WeightFormat.BF16)]
    [InlineData(1, 256, 512, WeightFormat.BF16)]
    [InlineData(4, 16, 4, WeightFormat.F32)]
    [InlineData(13, 77, 43, WeightFormat.F32)]
    [InlineData(9, 300, 70, WeightFormat.F32)]
    [InlineData(6, 40, 9, WeightFormat.BF16)]
    [InlineData(2, 0, 5, WeightFormat.F32)]
    public void MatMulMatchesReference(int rows, int k, int outF, WeightFormat format)
    {
        using var w = Weight(TestData.Random(outF * k, 1 + k), outF, k, format, out var dense);
        var xs = TestData.Random(rows * k, 2 + rows);
        var bias = TestData.Random(outF, 3);
        using var bw = HostWeight.FromFloats("b", 1, outF, bias);
        using var x = Act(rows, k, xs);
        using var y = Act(rows, outF);
        _b.MatMul(x, _b.LoadWeight(w), _b.LoadWeight(bw), y, rows);
        var expected = new float[rows * outF];
        ReferenceOps.MatMul(xs, dense, bias, expected, rows, k, outF);
        TestData.AssertClose(Read(y, rows), expected, 1e-5, $"matmul {rows}x{k}x{outF} {format}");
    }

    /// <summary>Rows of a 9-row call (a six-row panel tile and a remainder) equal the same rows alone, bit for bit.</summary>
    [Theory]
    [InlineData(77, 43)]
    [InlineData(768, 37)]
    [InlineData(64, 8)]
    [InlineData(16, 4)]
    [InlineData(35, 12)]
    public void MatMulRowIsIndependentOfBatch(int k, int outF)
    {
        using var w = HostWeight.FromFloats("w", outF, k, TestData.Random(outF * k, 5));
        CpuTestTensors.AssertRowsIndependentOfBatch(_b, w);
    }

    /// <summary>16-bit weights keep the row-dot kernels (4x4 tiles of widened rows, single rows for decode): the same check.</summary>
    [Theory]
    [InlineData(77, 43, WeightFormat.F16)]
    [InlineData(768, 37, WeightFormat.BF16)]
    [InlineData(35, 12, WeightFormat.BF16)]
    public void HalfWeightMatMulRowIsIndependentOfBatch(int k, int outF, WeightFormat format)
    {
        using var w = Weight(TestData.Random(outF * k, 5), outF, k, format, out _);
        CpuTestTensors.AssertRowsIndependentOfBatch(_b, w);
    }

    /// <summary>The 4x4 tile's batched reduction relies on Vector512.Sum's order: adjacent lanes paired up a tree.</summary>
    [Fact]
    public void Vector512SumIsAnAdjacentPairTree()
    {
        var rng = new Random(9);
        var a = new float[16];
        for (int t = 0; t < 20000; t++)
        {
            for (int i = 0; i < 16; i++) a[i] = (float)((rng.NextDouble() - 0.5) * Math.Pow(10, rng.Next(-4, 5)));
            float Q(int o) => (a[o] + a[o + 1]) + (a[o + 2] + a[o + 3]);
            float tree = (Q(0) + Q(4)) + (Q(8) + Q(12));
            Assert.Equal(BitConverter.SingleToInt32Bits(tree), BitConverter.SingleToInt32Bits(System.Runtime.Intrinsics.Vector512.Sum(System.Runtime.Intrinsics.Vector512.Create(a))));
        }
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 17)]
    [InlineData(2, 64)]
    [InlineData(5, 129)]
    public void RmsNormMatchesReference(int rows, int n)
    {
        var xs = TestData.Random(rows * n, 7, 3f);
        var ws = TestData.Random(n, 8);
        using var w = HostWeight.FromFloats("norm", 1, n, ws);
        using var x = Act(rows, n, xs);
        using var y = Act(rows, n);
        _b.RmsNorm(x, _b.LoadWeight(w), 1e-5f, y, rows);
        var expected = new float[rows * n];
        ReferenceOps.RmsNorm(xs, ws, 1e-5f, expected, rows, n);
        TestData.AssertClose(Read(y, rows), expected, 1e-5, "rmsnorm");
    }

    [Fact]
    public void SiluMulAndAddMatchReference()
    {
        const int rows = 3, n = 300;
        var g = TestData.Random(rows * n, 9, 4f);
        var u = TestData.Random(rows * n, 10);
        using var ga = Act(rows, n, g);
        using var ua = Act(rows, n, u);
        using var o = Act(rows, n);
        _b.SiluMul(ga, ua, o, rows);
        var expected = new float[rows * n];
        ReferenceOps.SiluMul(g, u, expected);
        TestData.AssertClose(Read(o, rows), expected, 1e-5, "silu*up");
        _b.SiluMul(ga, ua, ga, rows); // in place, as the model calls it
        TestData.AssertClose(Read(ga, rows), expected, 1e-5, "silu*up in place");
        _b.Add(o, ua, rows);
        for (int i = 0; i < expected.Length; i++) expected[i] += u[i];
        TestData.AssertClose(Read(o, rows), expected, 1e-5, "add");
    }

    [Theory]
    [InlineData(8, 10000f, null)]
    [InlineData(64, 500000f, "llama3")]
    [InlineData(128, 10000f, "linear")]
    public void RopeMatchesReference(int headDim, float theta, string? scaling)
    {
        var table = new RopeTable(headDim, theta, scaling, 8f, 1f, 4f, 64);
        const int rows = 5, heads = 3, kvHeads = 1;
        var q = TestData.Random(rows * heads * headDim, 11);
        var k = TestData.Random(rows * kvHeads * headDim, 12);
        int[] positions = [0, 1, 7, 100, 4095];
        var meta = new StepMetadata(rows, 1, 1) { NumTokens = rows, NumSeqs = 1 };
        positions.CopyTo(meta.Positions, 0);
        meta.QueryStart[1] = rows;
        using var qa = Act(rows, heads * headDim, q);
        using var ka = Act(rows, kvHeads * headDim, k);
        _b.BeginStep(meta);
        _b.Rope(qa, ka, table, heads, kvHeads, rows);
        for (int t = 0; t < rows; t++)
        {
            ReferenceOps.Rope(q.AsSpan(t * heads * headDim, heads * headDim), heads, headDim, table.InvFreq, positions[t]);
            ReferenceOps.Rope(k.AsSpan(t * kvHeads * headDim, kvHeads * headDim), kvHeads, headDim, table.InvFreq, positions[t]);
        }
        TestData.AssertClose(Read(qa, rows), q, 1e-5, "rope q");
        TestData.AssertClose(Read(ka, rows), k, 1e-5, "rope k");
    }

    /// <summary>
    /// The backend computes a step's RoPE angles once and reuses them for every layer: the rotation must still be
    /// the plain formula's bit for bit (angle = position * InvFreq[i] in F32, rotate-half), for each layer of a step,
    /// after a new step moves the positions, for a call with more rows than the last, and for other tables (another
    /// base, another head size) in the same step.
    /// </summary>
    [Fact]
    public void RopeAnglesAreRecomputedPerStepAndTable()
    {
        const int heads = 2, kvHeads = 1;
        var table = new RopeTable(16, 10000f);
        var otherBase = new RopeTable(16, 500000f);
        var otherSize = new RopeTable(32, 10000f);
        var q = TestData.Random(3 * heads * 32, 21);
        var k = TestData.Random(3 * kvHeads * 32, 22);

        static float[] Expected(float[] x, int rows, int h, RopeTable t, int[] positions)
        {
            var e = (float[])x.Clone();
            int half = t.HeadDim / 2;
            for (int r = 0; r < rows; r++)
                for (int head = 0; head < h; head++)
                    for (int i = 0; i < half; i++)
                    {
                        float angle = positions[r] * t.InvFreq[i];
                        float c = MathF.Cos(angle), s = MathF.Sin(angle);
                        int at = (r * h + head) * t.HeadDim + i;
                        float a = x[at], b = x[at + half];
                        e[at] = a * c - b * s;
                        e[at + half] = b * c + a * s;
                    }
            return e;
        }

        void Step(int rows, int[] positions)
        {
            var meta = new StepMetadata(rows, 1, 1) { NumTokens = rows, NumSeqs = 1 };
            positions.CopyTo(meta.Positions, 0);
            meta.QueryStart[1] = rows;
            _b.BeginStep(meta);
        }

        void Check(int rows, RopeTable t, int[] positions)
        {
            float[] qx = q.AsSpan(0, rows * heads * t.HeadDim).ToArray(), kx = k.AsSpan(0, rows * kvHeads * t.HeadDim).ToArray();
            using var qa = Act(rows, heads * t.HeadDim, qx);
            using var ka = Act(rows, kvHeads * t.HeadDim, kx);
            _b.Rope(qa, ka, t, heads, kvHeads, rows);
            Assert.Equal(Expected(qx, rows, heads, t, positions), Read(qa, rows));
            Assert.Equal(Expected(kx, rows, kvHeads, t, positions), Read(ka, rows));
        }

        Step(2, [5, 6]);
        Check(2, table, [5, 6]); // layer 0 computes the angles
        Check(2, table, [5, 6]); // layer 1 reuses them
        Check(2, otherBase, [5, 6]); // another base in the same step
        Check(2, otherSize, [5, 6]); // another head size: more angles per token
        Check(2, table, [5, 6]); // and back
        Step(3, [40, 41, 900]);
        Check(2, table, [40, 41]); // fewer rows than the step
        Check(3, table, [40, 41, 900]); // then all of them
        Step(1, [7]);
        Check(1, table, [7]);
    }
}
