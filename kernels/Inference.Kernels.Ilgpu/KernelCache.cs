using System.Diagnostics;
using ILGPU.Runtime;

namespace Inference.Kernels.Ilgpu;

/// <summary>Compiles each kernel (per weight-format specialization) once per accelerator and logs how long it took.</summary>
internal sealed class KernelCache(Accelerator accelerator, Action<string>? log)
{
    private readonly Dictionary<string, Delegate> _kernels = [];

    public T Get<T>(string key, Func<Accelerator, T> load) where T : Delegate
    {
        if (_kernels.TryGetValue(key, out var d)) return (T)d;
        var sw = Stopwatch.StartNew();
        var k = load(accelerator);
        log?.Invoke($"ilgpu: compiled {key} in {sw.Elapsed.TotalMilliseconds:F0} ms");
        _kernels[key] = k;
        return k;
    }
}
