using Inference.Kernels;
using Inference.Kernels.Cpu;

namespace Inference.Tests.Cpu;

/// <summary>The CPU backend's packed weight copies: made at load, shared by loads of one weight, freed with the last.</summary>
public sealed class PackedCopyLifetimeTests : IDisposable
{
    private readonly CpuBackend _b = new(threads: 2);

    public void Dispose() => _b.Dispose();

    [Theory]
    [InlineData("f32")]
    [InlineData("int8")]
    [InlineData("int4")]
    public void LoadsShareThePackedCopyAndTheLastOneFreesIt(string format)
    {
        using var w = format == "f32"
            ? HostWeight.FromFloats("w", 70, 64, TestData.Random(70 * 64, 1))
            : CpuTestTensors.Quantized(format, 70, 64, 32, 1);
        bool packs = format == "f32" ? MatMulKernel.TakesPanels(w) : IntMatMul.Supports(w);
        if (!packs) return; // this CPU keeps the unpacked kernels for the format
        var a = _b.LoadWeight(w);
        var b = _b.LoadWeight(w);
        Assert.True(w.HasPackedCopy);
        a.Dispose();
        a.Dispose(); // a second dispose must not release b's use
        Assert.True(w.HasPackedCopy);
        b.Dispose();
        Assert.False(w.HasPackedCopy);
    }

    [Fact]
    public void AnEmbeddingTableIsNotPacked()
    {
        using var w = HostWeight.FromFloats("embed", 70, 64, TestData.Random(70 * 64, 2));
        using var table = _b.LoadEmbeddingTable(w);
        Assert.False(w.HasPackedCopy);
    }

    [Fact]
    public void DisposingTheHostWeightFreesACopyMadeOnFirstUse()
    {
        var w = HostWeight.FromFloats("w", 70, 64, TestData.Random(70 * 64, 3));
        if (!MatMulKernel.TakesPanels(w)) { w.Dispose(); return; }
        _ = w.Panels;
        Assert.True(w.HasPackedCopy);
        w.Dispose();
        Assert.False(w.HasPackedCopy);
    }
}

/// <summary>
/// The packed paths' results do not depend on the thread count either: the bands (and so which tile computes an
/// output) change with it, the per-element arithmetic must not.
/// </summary>
public sealed class ThreadCountInvarianceTests
{
    [Theory]
    [InlineData("f32", 1)]
    [InlineData("f32", 9)]
    [InlineData("int8", 1)]
    [InlineData("int8", 9)]
    [InlineData("int4", 1)]
    [InlineData("int4z", 9)]
    public void SameBitsOnOneTwoThreeAndSevenThreads(string format, int rows)
    {
        const int k = 96, outF = 333;
        using var w = format == "f32"
            ? HostWeight.FromFloats("w", outF, k, TestData.Random(outF * k, 12))
            : CpuTestTensors.Quantized(format, outF, k, 32, 12);
        var xs = TestData.Random(rows * k, 13);
        float[]? first = null;
        foreach (int threads in new[] { 1, 2, 3, 7 })
        {
            using var b = new CpuBackend(threads);
            using var x = CpuTestTensors.Act(b, rows, k, xs);
            using var y = CpuTestTensors.Act(b, rows, outF);
            using var dw = b.LoadWeight(w);
            b.MatMul(x, dw, null, y, rows);
            var got = CpuTestTensors.Read(y, rows);
            if (first is null) first = got;
            else Assert.True(System.Runtime.InteropServices.MemoryMarshal.Cast<float, int>(first).SequenceEqual(System.Runtime.InteropServices.MemoryMarshal.Cast<float, int>(got)), $"{format}, {rows} rows: {threads} threads differ from 1");
        }
    }
}
