using System.Numerics.Tensors;
using Inference.Kernels;
using Inference.Kernels.Cpu;

namespace Inference.Tests.Cpu;

/// <summary>Row argmax on the CPU backend and through the interface's read-back default equals TensorPrimitives.IndexOfMax.</summary>
public sealed unsafe class ArgMaxTests : IDisposable
{
    private readonly CpuBackend _b = new(threads: 2);

    public void Dispose() => _b.Dispose();

    /// <summary>The order the GPU kernel reduces by picks what IndexOfMax picks, on every kind of row.</summary>
    [Fact]
    public void OrderMatchesIndexOfMax()
    {
        for (int seed = 0; seed < 40; seed++)
        {
            int cols = 1 + seed * 7 % 97;
            var a = ArgMaxData.Rows(10, cols, seed);
            var (expected, _) = ArgMaxData.Expected(a, 10, cols);
            for (int r = 0; r < 10; r++)
            {
                var x = a.AsSpan(r * cols, cols);
                int best = 0;
                for (int c = 1; c < cols; c++) if (ArgMaxOrder.Precedes(x[c], c, x[best], best)) best = c;
                Assert.Equal(expected[r], best);
            }
        }
    }

    [Fact]
    public void OrderSpecialCases()
    {
        Assert.True(ArgMaxOrder.Precedes(0f, 5, -0f, 1));
        Assert.False(ArgMaxOrder.Precedes(-0f, 0, 0f, 1));
        Assert.True(ArgMaxOrder.Precedes(float.NaN, 9, float.PositiveInfinity, 0));
        Assert.True(ArgMaxOrder.Precedes(float.NaN, 2, float.NaN, 3));
        Assert.True(ArgMaxOrder.Precedes(float.NegativeInfinity, 3, float.NegativeInfinity, 4));
        Assert.False(ArgMaxOrder.Precedes(1f, 3, 1f, 3));
        Assert.Equal(1, TensorPrimitives.IndexOfMax<float>([-0f, 0f]));
        Assert.Equal(1, TensorPrimitives.IndexOfMax<float>([1f, float.NaN, float.NaN]));
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(1, 37)]
    [InlineData(5, 64)]
    [InlineData(7, 100)]
    [InlineData(12, 513)]
    [InlineData(6, ArgMaxJob.ParallelCols + 3)]
    public void CpuBackendMatchesIndexOfMax(int rows, int cols)
    {
        using var x = Act(rows, cols, ArgMaxData.Rows(rows, cols, rows * 31 + cols));
        var (idx, val) = Run(_b, x, rows);
        var (ei, ev) = ArgMaxData.Expected(Read(x, rows), rows, cols);
        Assert.Equal(ei, idx);
        Assert.True(ArgMaxData.SameBits(ev, val), $"values {string.Join(',', val)} != {string.Join(',', ev)}");
    }

    [Theory]
    [InlineData(1, 9)]
    [InlineData(11, 70)]
    public void DefaultImplementationMatchesIndexOfMax(int rows, int cols)
    {
        using var x = Act(rows, cols, ArgMaxData.Rows(rows, cols, 3 + rows));
        var (idx, val) = Run(new ReadOnlyBackend(_b), x, rows);
        var (ei, ev) = ArgMaxData.Expected(Read(x, rows), rows, cols);
        Assert.Equal(ei, idx);
        Assert.True(ArgMaxData.SameBits(ev, val), $"values {string.Join(',', val)} != {string.Join(',', ev)}");
    }

    [Fact]
    public void ZeroRowsWritesNothing()
    {
        using var x = Act(1, 8, new float[8]);
        _b.ArgMax(x, 0, [], []);
    }

    private static (int[], float[]) Run(IComputeBackend b, IActivation x, int rows)
    {
        var idx = new int[rows];
        var val = new float[rows];
        b.ArgMax(x, rows, idx, val);
        return (idx, val);
    }

    private CpuActivation Act(int rows, int cols, float[] data)
    {
        var a = (CpuActivation)_b.Allocate(rows, cols);
        data.CopyTo(new Span<float>(a.Data, rows * cols));
        return a;
    }

    private static float[] Read(CpuActivation a, int rows) => new ReadOnlySpan<float>(a.Data, rows * a.Cols).ToArray();

    /// <summary>The CPU backend with only Read: ArgMax falls to the interface's default.</summary>
    private sealed class ReadOnlyBackend(CpuBackend b) : IComputeBackend
    {
        public string Name => "read-only";
        public IDeviceWeight LoadWeight(HostWeight weight) => throw new NotSupportedException();
        public IActivation Allocate(int maxRows, int cols) => b.Allocate(maxRows, cols);
        public IKvCache AllocateKvCache(KvCacheShape shape) => throw new NotSupportedException();
        public void BeginStep(StepMetadata meta) => throw new NotSupportedException();
        public void Embed(IDeviceWeight table, IActivation output) => throw new NotSupportedException();
        public void RmsNorm(IActivation x, IDeviceWeight weight, float eps, IActivation y, int rows) => throw new NotSupportedException();
        public void MatMul(IActivation x, IDeviceWeight weight, IDeviceWeight? bias, IActivation y, int rows) => throw new NotSupportedException();
        public void Rope(IActivation q, IActivation k, RopeTable table, int numHeads, int numKvHeads, int rows) => throw new NotSupportedException();
        public void StoreKv(IActivation k, IActivation v, IKvCache cache, int layer, int rows) => throw new NotSupportedException();
        public void Attention(IActivation q, IKvCache cache, int layer, AttentionShape shape, IActivation output) => throw new NotSupportedException();
        public void SiluMul(IActivation gate, IActivation up, IActivation output, int rows) => throw new NotSupportedException();
        public void Add(IActivation x, IActivation y, int rows) => throw new NotSupportedException();
        public void GatherSampleRows(IActivation src, IActivation dst) => throw new NotSupportedException();
        public void Read(IActivation x, int rows, Span<float> dst) => b.Read(x, rows, dst);
        public void Synchronize() { }
        public void Dispose() { }
    }
}
