using Inference.Kernels;
using Inference.Kernels.Cpu;
using ILGPU.Runtime;
using Inference.Kernels.Ilgpu;

namespace Inference.Tests.Ilgpu;

/// <summary>Moves test data in and out of CPU and ILGPU activations and caches.</summary>
public static unsafe class DeviceData
{
    public static void Write(IActivation a, ReadOnlySpan<float> values)
    {
        switch (a)
        {
            case CpuActivation c: values.CopyTo(new Span<float>(c.Data, values.Length)); break;
            case IlgpuActivation g: g.Buffer.View.SubView(0, values.Length).CopyFromCPU(ref System.Runtime.InteropServices.MemoryMarshal.GetReference(values), values.Length); break;
            default: throw new ArgumentException(a.GetType().Name);
        }
    }

    public static float[] Read(IComputeBackend b, IActivation a, int rows)
    {
        var r = new float[rows * a.Cols];
        b.Read(a, rows, r);
        return r;
    }

    /// <summary>Fills layer <paramref name="layer"/> of the cache with the given K and V pools ([NumSlots, KvDim]).</summary>
    public static void WriteKv(IKvCache cache, int layer, float[] k, float[] v)
    {
        switch (cache)
        {
            case CpuKvCache c:
                k.CopyTo(new Span<float>(c.K(layer), k.Length));
                v.CopyTo(new Span<float>(c.V(layer), v.Length));
                break;
            case IlgpuKvCache g:
                g.K(layer).SubView(0, k.Length).CopyFromCPU(k);
                g.V(layer).SubView(0, v.Length).CopyFromCPU(v);
                break;
            default: throw new ArgumentException(cache.GetType().Name);
        }
    }

    public static float[] ReadK(IKvCache cache, int layer, int n) => cache switch
    {
        CpuKvCache c => new ReadOnlySpan<float>(c.K(layer), n).ToArray(),
        IlgpuKvCache g => Copy(g.K(layer), n),
        _ => throw new ArgumentException(cache.GetType().Name),
    };

    public static float[] ReadV(IKvCache cache, int layer, int n) => cache switch
    {
        CpuKvCache c => new ReadOnlySpan<float>(c.V(layer), n).ToArray(),
        IlgpuKvCache g => Copy(g.V(layer), n),
        _ => throw new ArgumentException(cache.GetType().Name),
    };

    private static float[] Copy(ILGPU.ArrayView<float> view, int n)
    {
        var r = new float[n];
        view.SubView(0, n).CopyToCPU(r);
        return r;
    }
}
