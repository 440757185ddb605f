namespace Inference.Kernels.Ilgpu;

/// <summary>Which ILGPU accelerator a backend runs on.</summary>
public enum IlgpuDeviceKind
{
    /// <summary>The first NVIDIA GPU.</summary>
    Cuda,
    /// <summary>ILGPU's CPU accelerator (each GPU thread emulated by an OS thread; for tests).</summary>
    Cpu,
}
