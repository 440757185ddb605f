using ILGPU.Runtime.Cuda;
using Inference.Kernels.Ilgpu;
using Xunit.Abstractions;

namespace Inference.Tests.Ilgpu;

/// <summary>
/// Every group-level kernel compiles to PTX for an H200 (sm_90) here, without a GPU: a kernel that CUDA would
/// reject in ILGPU's front or back end (an unsupported construct, a bad inline-PTX call) fails here. ptxas and the
/// driver are not involved; bench/gpu/run.sh runs ptxas on the same text where it finds one.
/// </summary>
public sealed class PtxCompileTests(ITestOutputHelper output)
{
    public static TheoryData<string> Kernels => [.. PtxListing.Kernels().Select(k => k.Name)];

    [Theory]
    [MemberData(nameof(Kernels))]
    public void CompilesToPtx(string name)
    {
        var method = PtxListing.Kernels().Single(k => k.Name == name).Method;
        string ptx = PtxListing.Compile(method, CudaArchitecture.SM_90, CudaInstructionSet.ISA_80);
        int fmas = Count(ptx, "fma.rn.f32");
        output.WriteLine($"{name}: {ptx.Length} chars of PTX, {fmas} fma.rn.f32");
        // The reductions that must agree across kernels go through the explicit FMA, never a plain mul + add
        // that ptxas could contract one way in one kernel and another way in the next.
        if (!PtxListing.CompareOnly.Contains(name)) Assert.True(fmas > 0, $"{name}: no fma.rn.f32 in its PTX");
    }

    private static int Count(string s, string what)
    {
        int n = 0;
        for (int i = s.IndexOf(what, StringComparison.Ordinal); i >= 0; i = s.IndexOf(what, i + 1, StringComparison.Ordinal)) n++;
        return n;
    }
}
