using Inference.Kernels;
using Inference.Kernels.Ilgpu;

namespace Inference.Cli;

/// <summary>Connects --device cuda / ilgpu-cpu / auto to the ILGPU backend.</summary>
internal static class DeviceBackends
{
    public static void Register() => BackendFactory.DeviceBackendFactory = Create;

    private static IComputeBackend? Create(string device, Action<string>? log) => device switch
    {
        "cuda" => IlgpuBackend.Create(IlgpuDeviceKind.Cuda, log),
        "ilgpu-cpu" => IlgpuBackend.Create(IlgpuDeviceKind.Cpu, log),
        // auto: a GPU when one is present; otherwise null, and the SIMD CPU backend is used.
        "cuda-if-present" => IlgpuBackend.CudaAvailable(out _) ? IlgpuBackend.Create(IlgpuDeviceKind.Cuda, log) : null,
        _ => null,
    };
}
