using ILGPU;
using ILGPU.Runtime;
using Inference.Kernels.Ilgpu.Kernels;
using Half = ILGPU.Half;

namespace Inference.Kernels.Ilgpu;

/// <summary>Paged K/V on the device (F32 or F16 elements): per layer K and V are [NumSlots, KvDim].</summary>
public sealed class IlgpuKvCache : IKvCache
{
    private readonly MemoryBuffer[] _k;
    private readonly MemoryBuffer[] _v;

    public KvCacheShape Shape { get; }
    public bool IsF16 => Shape.DType == KvCacheDType.F16;

    public IlgpuKvCache(Accelerator accelerator, KvCacheShape shape)
    {
        if (shape.DType is not (KvCacheDType.F32 or KvCacheDType.F16))
            throw new NotSupportedException($"the ILGPU backend keeps F32 or F16 KV pools, not {shape.DType}");
        Shape = shape;
        _k = new MemoryBuffer[shape.NumLayers];
        _v = new MemoryBuffer[shape.NumLayers];
        long n = Math.Max(1L, (long)shape.NumSlots * shape.KvDim);
        for (int l = 0; l < shape.NumLayers; l++)
        {
            _k[l] = IsF16 ? Zeroed<Half>(accelerator, n) : Zeroed<float>(accelerator, n);
            _v[l] = IsF16 ? Zeroed<Half>(accelerator, n) : Zeroed<float>(accelerator, n);
        }
    }

    // Attention reads whole chunks; unwritten slots must hold finite values (zero bits are 0 in both types).
    private static MemoryBuffer Zeroed<T>(Accelerator accelerator, long n) where T : unmanaged
    {
        var b = accelerator.Allocate1D<T>(n);
        b.MemSetToZero();
        return b;
    }

    public ArrayView<float> K(int layer) => Typed<float>(_k, layer, KvCacheDType.F32);
    public ArrayView<float> V(int layer) => Typed<float>(_v, layer, KvCacheDType.F32);
    public ArrayView<Half> KHalf(int layer) => Typed<Half>(_k, layer, KvCacheDType.F16);
    public ArrayView<Half> VHalf(int layer) => Typed<Half>(_v, layer, KvCacheDType.F16);

    internal F32KvView K32(int layer) => new() { Data = K(layer) };
    internal F32KvView V32(int layer) => new() { Data = V(layer) };
    internal F16KvView K16(int layer) => new() { Data = KHalf(layer), Bits = KHalf(layer).Cast<ushort>() };
    internal F16KvView V16(int layer) => new() { Data = VHalf(layer), Bits = VHalf(layer).Cast<ushort>() };

    private ArrayView<T> Typed<T>(MemoryBuffer[] buffers, int layer, KvCacheDType want) where T : unmanaged =>
        Shape.DType == want
            ? ((MemoryBuffer1D<T, Stride1D.Dense>)buffers[layer]).View.AsContiguous()
            : throw new InvalidOperationException($"the KV cache holds {Shape.DType}, not {want}");

    public void Dispose()
    {
        foreach (var b in _k) b.Dispose();
        foreach (var b in _v) b.Dispose();
    }
}
