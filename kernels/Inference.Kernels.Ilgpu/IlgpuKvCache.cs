using ILGPU;
using ILGPU.Runtime;

namespace Inference.Kernels.Ilgpu;

/// <summary>Paged F32 K/V on the device: per layer K and V are [NumSlots, KvDim].</summary>
public sealed class IlgpuKvCache : IKvCache
{
    private readonly MemoryBuffer1D<float, Stride1D.Dense>[] _k;
    private readonly MemoryBuffer1D<float, Stride1D.Dense>[] _v;

    public KvCacheShape Shape { get; }

    public IlgpuKvCache(Accelerator accelerator, KvCacheShape shape)
    {
        Shape = shape;
        _k = new MemoryBuffer1D<float, Stride1D.Dense>[shape.NumLayers];
        _v = new MemoryBuffer1D<float, Stride1D.Dense>[shape.NumLayers];
        long n = Math.Max(1L, (long)shape.NumSlots * shape.KvDim);
        for (int l = 0; l < shape.NumLayers; l++)
        {
            _k[l] = accelerator.Allocate1D<float>(n);
            _v[l] = accelerator.Allocate1D<float>(n);
            // Attention reads whole chunks; unwritten slots must hold finite values.
            _k[l].MemSetToZero();
            _v[l].MemSetToZero();
        }
    }

    public ArrayView<float> K(int layer) => _k[layer].View.AsContiguous();
    public ArrayView<float> V(int layer) => _v[layer].View.AsContiguous();

    public void Dispose()
    {
        foreach (var b in _k) b.Dispose();
        foreach (var b in _v) b.Dispose();
    }
}
