using Inference.Kernels;
using Inference.Kernels.Cpu;

namespace Inference.Tests.Cpu;

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
