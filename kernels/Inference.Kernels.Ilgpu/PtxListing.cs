using System.Reflection;
using ILGPU;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using Inference.Kernels.Ilgpu.Kernels;

namespace Inference.Kernels.Ilgpu;

/// <summary>
/// Compiles the backend's group-level kernels (every weight-format and KV specialization) to PTX without a GPU or
/// driver: ILGPU's front end and PTX back end run on any machine, so tests can catch a kernel CUDA would reject,
/// and the GPU check can hand the text to ptxas to see registers, spills and local memory.
/// </summary>
public static class PtxListing
{
    /// <summary>The kernels by the names <see cref="IlgpuBackend"/> caches them under.</summary>
    public static IEnumerable<(string Name, MethodInfo Method)> Kernels()
    {
        Type[] readers = [typeof(F32Reader), typeof(F16Reader), typeof(Bf16Reader), typeof(Int8Reader), typeof(Int4Reader)];
        foreach (var r in readers)
        {
            yield return ($"matvec<{r.Name}>", typeof(MatVecKernel).GetMethod(nameof(MatVecKernel.Run))!.MakeGenericMethod(r));
            yield return ($"matmul<{r.Name}>", typeof(MatMulKernel).GetMethod(nameof(MatMulKernel.Run))!.MakeGenericMethod(r));
            yield return ($"tiled_matmul<{r.Name}>", typeof(TiledMatMulKernel).GetMethod(nameof(TiledMatMulKernel.Run))!.MakeGenericMethod(r));
        }
        foreach (var kv in new[] { typeof(F32KvView), typeof(F16KvView) })
            yield return ($"paged_attention<{kv.Name}>", typeof(PagedAttentionKernel).GetMethod(nameof(PagedAttentionKernel.Run))!.MakeGenericMethod(kv));
        yield return ("split_kv_merge", typeof(SplitKvMergeKernel).GetMethod(nameof(SplitKvMergeKernel.Run))!);
        yield return ("argmax", typeof(ArgMaxKernel).GetMethod(nameof(ArgMaxKernel.Run))!);
    }

    /// <summary>Kernels that only compare floats: no reduction whose rounding must agree, so no FMA to look for.</summary>
    public static IReadOnlySet<string> CompareOnly { get; } = new HashSet<string> { "argmax" };

    /// <summary>PTX of one kernel for <paramref name="arch"/>, as a CUDA context of the backend (default optimization) would build it.</summary>
    public static string Compile(MethodInfo kernel, CudaArchitecture arch, CudaInstructionSet isa)
    {
        using var context = Context.Create(b => b.CPU().EnableAlgorithms());
        using var backend = new PTXBackend(context, new CudaCapabilityContext(arch), arch, isa, null);
        var compiled = (PTXCompiledKernel)backend.Compile(EntryPointDescription.FromExplicitlyGroupedKernel(kernel), KernelSpecialization.Empty);
        return compiled.PTXAssembly;
    }

    /// <summary>Writes NAME.ptx for every kernel into <paramref name="dir"/> (H200: sm_90); returns the paths.</summary>
    public static IReadOnlyList<string> Write(string dir)
    {
        Directory.CreateDirectory(dir);
        var paths = new List<string>();
        foreach (var (name, method) in Kernels())
        {
            string path = Path.Combine(dir, name.Replace('<', '_').Replace(">", "") + ".ptx");
            File.WriteAllText(path, Compile(method, CudaArchitecture.SM_90, CudaInstructionSet.ISA_80));
            paths.Add(path);
        }
        return paths;
    }
}
