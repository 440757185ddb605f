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

    /// <summary>format: "int8", "int4" (symmetric) or "int4z" (zero points).</summary>
    public static HostWeight Quantized(string format, int outF, int k, int groupSize, int seed)
    {
        using var f32 = HostWeight.FromFloats("w", outF, k, TestData.Random(outF * k, seed));
        return format == "int8" ? Quantizer.ToInt8(f32) : Quantizer.ToInt4(f32, groupSize, format == "int4z");
    }
}
