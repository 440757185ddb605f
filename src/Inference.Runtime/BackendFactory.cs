using Inference.Kernels;
using Inference.Kernels.Cpu;

namespace Inference;

/// <summary>Creates the compute backend named by --device (auto: CUDA when present, else the SIMD CPU backend).</summary>
public static class BackendFactory
{
    public static readonly string[] Devices = ["auto", "cpu", "cuda", "ilgpu-cpu"];

    /// <summary>Hook for the ILGPU backend assembly, which registers itself so the core runtime needs no ILGPU.</summary>
    public static Func<string, Action<string>?, IComputeBackend?>? DeviceBackendFactory { get; set; }

    public static IComputeBackend Create(string device, int threads, Action<string>? log = null)
    {
        switch (device)
        {
            case "cpu":
                return new CpuBackend(threads);
            case "auto":
                return (DeviceBackendFactory?.Invoke("cuda-if-present", log)) ?? new CpuBackend(threads);
            case "cuda" or "ilgpu-cpu":
                return DeviceBackendFactory?.Invoke(device, log)
                       ?? throw new InferenceException($"--device {device}: the ILGPU backend is not available in this build");
            default:
                throw new InferenceException($"unknown --device '{device}' (choose one of: {string.Join(", ", Devices)})");
        }
    }
}
