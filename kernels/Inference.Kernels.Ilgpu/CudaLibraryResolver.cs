using System.Reflection;
using System.Runtime.InteropServices;

namespace Inference.Kernels.Ilgpu;

/// <summary>
/// Points ILGPU's CUDA driver imports at libcuda.so.1: driver-only machines (no CUDA toolkit) ship the
/// versioned soname without the unversioned libcuda.so link ILGPU asks for.
/// </summary>
public static class CudaLibraryResolver
{
    private static int s_installed;

    public static void Install()
    {
        if (Interlocked.Exchange(ref s_installed, 1) == 1 || !OperatingSystem.IsLinux()) return;
        try
        {
            NativeLibrary.SetDllImportResolver(typeof(ILGPU.Context).Assembly, Resolve);
        }
        catch (InvalidOperationException)
        {
            // Someone else already installed a resolver for ILGPU; theirs wins.
        }
    }

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? path)
    {
        if (!name.Contains("cuda", StringComparison.OrdinalIgnoreCase)) return IntPtr.Zero;
        foreach (var candidate in new[] { name, "libcuda.so.1", "libcuda.so" })
        {
            if (name.Contains("nvrtc", StringComparison.OrdinalIgnoreCase) && candidate.StartsWith("libcuda", StringComparison.Ordinal)) continue;
            if (NativeLibrary.TryLoad(candidate, assembly, path, out var handle)) return handle;
        }
        return IntPtr.Zero;
    }
}
