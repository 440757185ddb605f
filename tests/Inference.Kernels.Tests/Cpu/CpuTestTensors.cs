using Inference.Kernels;
using Inference.Kernels.Cpu;

namespace Inference.Tests.Cpu;

/// <summary>Activations and quantized weights for the CPU kernel tests.</summary>
internal static unsafe class CpuTestTensors
{
    /// <summary>A [rows, cols] activation (at least one row), filled from data when given.</summary>
    public static CpuActivation Act(CpuBackend b, int rows, int cols, float[]? data = null)
    {
        var a = (CpuActivation)b.Allocate(Math.Max(rows, 1), cols);
        data?.AsSpan().CopyTo(new Span<float>(a.Data, rows * cols));
        return a;
    }

    public static float[] Read(CpuActivation a, int rows) => new ReadOnlySpan<float>(a.Data, rows * a.Cols).ToArray();

    /// <summary>Each row of a 9-row MatMul through <paramref name="w"/> equals the same row computed alone, bit for bit.</summary>
    public static void AssertRowsIndependentOfBatch(CpuBackend b, HostWeight w)
    {
        int k = w.Cols, outF = w.Rows;
        var xs = TestData.Random(9 * k, 6);
        using var x9 = Act(b, 9, k, xs);
        using var y9 = Act(b, 9, outF);
        b.MatMul(x9, b.LoadWeight(w), null, y9, 9);
        for (int r = 0; r < 9; r++)
        {
            using var x1 = Act(b, 1, k, xs.AsSpan(r * k, k).ToArray());
            using var y1 = Act(b, 1, outF);
            b.MatMul(x1, b.LoadWeight(w), null, y1, 1);
            Xunit.Assert.Equal(Read(y9, 9).AsSpan(r * outF, outF).ToArray(), Read(y1, 1));
        }
    }

    /// <summary>format: "int8", "int4" (symmetric) or "int4z" (zero points).</summary>
    public static HostWeight Quantized(string format, int outF, int k, int groupSize, int seed)
    {
        using var f32 = HostWeight.FromFloats("w", outF, k, TestData.Random(outF * k, seed));
        return format == "int8" ? Quantizer.ToInt8(f32) : Quantizer.ToInt4(f32, groupSize, format == "int4z");
    }
}
