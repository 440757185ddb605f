using Inference.Kernels;
using Inference.Kernels.Cpu;

namespace Inference.Tests.Cpu;

/// <summary>
/// F32 matmuls over <see cref="F32Panels"/> against their definition written here: each output element is
/// fma(x[k], w[k], acc) for k in order from 0, bit for bit, for every row count (six-row tiles and remainders)
/// and output count (whole and cut 64-wide panels).
/// </summary>
public sealed unsafe class F32PanelTests : IDisposable
{
    private readonly CpuBackend _b = new(threads: 2);

    public void Dispose() => _b.Dispose();

    private static float Expected(ReadOnlySpan<float> x, ReadOnlySpan<float> w)
    {
        float acc = 0f;
        for (int k = 0; k < x.Length; k++) acc = MathF.FusedMultiplyAdd(x[k], w[k], acc);
        return acc;
    }

    public static TheoryData<int, int, int> Shapes()
    {
        var d = new TheoryData<int, int, int>();
        int[] rowCounts = [0, 1, 2, 5, 6, 7, 13];
        (int, int)[] shapes = [(1, 2), (3, 5), (17, 63), (32, 64), (33, 65), (64, 130), (100, 200), (7, 700)];
        int i = 0;
        foreach (var (k, outF) in shapes)
            foreach (int rows in rowCounts)
                if (i++ % 2 == 0 || rows is 1 or 7) d.Add(rows, k, outF);
        return d;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void MatchesSequentialFmaBitForBit(int rows, int k, int outF)
    {
        if (!F32Panels.Supported) return; // other CPUs keep the row-dot kernels (tested in CpuKernelTests)
        var ws = TestData.Random(outF * k, 40 + k, 2f);
        var xs = TestData.Random(rows * k, 41 + rows, 3f);
        using var w = HostWeight.FromFloats("w", outF, k, ws);
        using var x = CpuTestTensors.Act(_b, rows, k, xs);
        using var y = CpuTestTensors.Act(_b, rows, outF);
        _b.MatMul(x, _b.LoadWeight(w), null, y, rows);
        var got = CpuTestTensors.Read(y, rows);
        for (int r = 0; r < rows; r++)
            for (int o = 0; o < outF; o++)
            {
                float e = Expected(xs.AsSpan(r * k, k), ws.AsSpan(o * k, k));
                Assert.True(BitConverter.SingleToInt32Bits(e) == BitConverter.SingleToInt32Bits(got[r * outF + o]),
                    $"{rows}x{k}x{outF}: [{r},{o}] = {got[r * outF + o]:R}, expected {e:R}");
            }
    }

    [Fact]
    public void PanelsHoldEveryWeightKMajorAndPadWithZeros()
    {
        const int k = 5, outF = 70;
        var ws = TestData.Random(outF * k, 3);
        using var w = HostWeight.FromFloats("w", outF, k, ws);
        var p = w.Panels;
        Assert.Equal(2, p.PanelCount);
        for (int o = 0; o < 2 * F32Panels.Width; o++)
            for (int i = 0; i < k; i++)
                Assert.Equal(o < outF ? ws[o * k + i] : 0f, p.Panel(o / 64)[i * 64 + o % 64]);
    }

    [Theory]
    [InlineData(1, 48, 100)]
    [InlineData(9, 64, 65)]
    public void PackedOnFirstUseEqualsPackedAtLoad(int rows, int k, int outF)
    {
        var ws = TestData.Random(outF * k, 8);
        var xs = TestData.Random(rows * k, 9);
        using var lazy = HostWeight.FromFloats("w", outF, k, ws);
        using var loaded = HostWeight.FromFloats("w", outF, k, ws);
        using var x = CpuTestTensors.Act(_b, rows, k, xs);
        using var a = CpuTestTensors.Act(_b, rows, outF);
        using var b = CpuTestTensors.Act(_b, rows, outF);
        using var pool = new WorkerPool(2);
        MatMulKernel.Run(pool, x, lazy, a, rows);
        _b.MatMul(x, _b.LoadWeight(loaded), null, b, rows);
        Assert.Equal(CpuTestTensors.Read(a, rows), CpuTestTensors.Read(b, rows));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    public void SteadyStateCallsAllocateNothing(int rows)
    {
        const int k = 96, outF = 130;
        using var w = HostWeight.FromFloats("w", outF, k, TestData.Random(outF * k, 4));
        var dw = _b.LoadWeight(w);
        using var x = CpuTestTensors.Act(_b, rows, k, TestData.Random(rows * k, 5));
        using var y = CpuTestTensors.Act(_b, rows, outF);
        for (int i = 0; i < 3; i++) _b.MatMul(x, dw, null, y, rows);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 20; i++) _b.MatMul(x, dw, null, y, rows);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
