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
