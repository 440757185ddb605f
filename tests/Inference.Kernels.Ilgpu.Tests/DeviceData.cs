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
            case CpuKvCache { IsF16: true } c:
                TensorPrimitivesHalf(k, new Span<Half>(c.KHalf(layer), k.Length));
                TensorPrimitivesHalf(v, new Span<Half>(c.VHalf(layer), v.Length));
                break;
            case CpuKvCache c:
                k.CopyTo(new Span<float>(c.K(layer), k.Length));
                v.CopyTo(new Span<float>(c.V(layer), v.Length));
                break;
            case IlgpuKvCache { IsF16: true } g:
                g.KHalf(layer).SubView(0, k.Length).CopyFromCPU(ToIlgpuHalf(k));
                g.VHalf(layer).SubView(0, v.Length).CopyFromCPU(ToIlgpuHalf(v));
                break;
            case IlgpuKvCache g:
                g.K(layer).SubView(0, k.Length).CopyFromCPU(k);
                g.V(layer).SubView(0, v.Length).CopyFromCPU(v);
                break;
            default: throw new ArgumentException(cache.GetType().Name);
        }
    }

    private static void TensorPrimitivesHalf(float[] x, Span<Half> dst) => System.Numerics.Tensors.TensorPrimitives.ConvertToHalf(x, dst);

    // Through System.Half's rounding, as the CPU pool gets; ILGPU's Half has the same IEEE bits.
    private static ILGPU.Half[] ToIlgpuHalf(float[] x) => x.Select(f => System.Runtime.CompilerServices.Unsafe.BitCast<Half, ILGPU.Half>((Half)f)).ToArray();

    /// <summary>K or V of a layer as floats, widened when the cache holds F16.</summary>
    public static float[] ReadK(IKvCache cache, int layer, int n) => cache switch
    {
        CpuKvCache { IsF16: true } c => Widen(new ReadOnlySpan<Half>(c.KHalf(layer), n)),
        CpuKvCache c => new ReadOnlySpan<float>(c.K(layer), n).ToArray(),
        IlgpuKvCache { IsF16: true } g => Copy(g.KHalf(layer), n),
        IlgpuKvCache g => Copy(g.K(layer), n),
        _ => throw new ArgumentException(cache.GetType().Name),
    };

    public static float[] ReadV(IKvCache cache, int layer, int n) => cache switch
    {
        CpuKvCache { IsF16: true } c => Widen(new ReadOnlySpan<Half>(c.VHalf(layer), n)),
        CpuKvCache c => new ReadOnlySpan<float>(c.V(layer), n).ToArray(),
        IlgpuKvCache { IsF16: true } g => Copy(g.VHalf(layer), n),
        IlgpuKvCache g => Copy(g.V(layer), n),
        _ => throw new ArgumentException(cache.GetType().Name),
    };

    private static float[] Widen(ReadOnlySpan<Half> x)
    {
        var r = new float[x.Length];
        System.Numerics.Tensors.TensorPrimitives.ConvertToSingle(x, r);
        return r;
    }

    private static float[] Copy(ILGPU.ArrayView<ILGPU.Half> view, int n)
    {
        var r = new ILGPU.Half[n];
        view.SubView(0, n).CopyToCPU(r);
        return r.Select(h => (float)h).ToArray();
    }

    private static float[] Copy(ILGPU.ArrayView<float> view, int n)
    {
        var r = new float[n];
        view.SubView(0, n).CopyToCPU(r);
        return r;
    }
}
