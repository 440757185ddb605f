namespace Inference.Kernels.Cpu;

/// <summary>An F32 activation buffer [MaxRows, Cols] in aligned native memory.</summary>
public sealed unsafe class CpuActivation : IActivation
{
    private readonly NativeBuffer _buffer;

    public int MaxRows { get; }
    public int Cols { get; }
    public float* Data => (float*)_buffer.Pointer;

    public CpuActivation(int maxRows, int cols)
    {
        MaxRows = maxRows;
        Cols = cols;
        _buffer = new NativeBuffer((long)maxRows * cols * sizeof(float));
    }

    public float* Row(int r) => Data + (long)r * Cols;

    public Span<float> RowSpan(int r) => new(Row(r), Cols);

    public void Dispose() => _buffer.Dispose();
}

/// <summary>A host weight used in place: the CPU reads mapped safetensors memory directly.</summary>
public sealed class CpuWeight : IDeviceWeight
{
    private bool _usesPacked;

    /// <param name="usesPacked">Whether this loaded weight holds a use of the host weight's packed copies.</param>
    public CpuWeight(HostWeight host, bool usesPacked = false)
    {
        Host = host;
        _usesPacked = usesPacked;
        if (usesPacked) host.AcquirePacked();
    }

    public HostWeight Host { get; }
    public string Name => Host.Name;
    public int Rows => Host.Rows;
    public int Cols => Host.Cols;
    public WeightFormat Format => Host.Format;

    // The host weight belongs to the loader (it may be a view into a mapped file); the packed copies the CPU
    // kernels made of it go when the last loaded weight using them is disposed.
    public void Dispose()
    {
        if (!_usesPacked) return;
        _usesPacked = false;
        Host.ReleasePacked();
    }
}

/// <summary>Paged K/V for all layers (F32, F16 or BF16 elements): per layer K and V are [NumSlots, KvDim].</summary>
public sealed unsafe class CpuKvCache : IKvCache
{
    private readonly NativeBuffer[] _k;
    private readonly NativeBuffer[] _v;

    public KvCacheShape Shape { get; }
    public bool IsF16 => Shape.DType == KvCacheDType.F16;
    public bool IsBF16 => Shape.DType == KvCacheDType.BF16;

    public CpuKvCache(KvCacheShape shape)
    {
        Shape = shape;
        _k = new NativeBuffer[shape.NumLayers];
        _v = new NativeBuffer[shape.NumLayers];
        long bytes = (long)shape.NumSlots * shape.KvDim * shape.ElementBytes;
        for (int l = 0; l < shape.NumLayers; l++)
        {
            _k[l] = new NativeBuffer(bytes);
            _v[l] = new NativeBuffer(bytes);
        }
    }

    public float* K(int layer) => (float*)Checked(_k, layer, KvCacheDType.F32);
    public float* V(int layer) => (float*)Checked(_v, layer, KvCacheDType.F32);
    public Half* KHalf(int layer) => (Half*)Checked(_k, layer, KvCacheDType.F16);
    public Half* VHalf(int layer) => (Half*)Checked(_v, layer, KvCacheDType.F16);
    public ushort* KBf16(int layer) => (ushort*)Checked(_k, layer, KvCacheDType.BF16);
    public ushort* VBf16(int layer) => (ushort*)Checked(_v, layer, KvCacheDType.BF16);
    /// <summary>Layer's K pool as bytes, whatever the element type (for prefetching).</summary>
    public byte* KBytes(int layer) => (byte*)_k[layer].Pointer;
    /// <summary>Layer's V pool as bytes, whatever the element type.</summary>
    public byte* VBytes(int layer) => (byte*)_v[layer].Pointer;

    // Reading F16 slots as floats (or the reverse) would be silent garbage, not a crash.
    private byte* Checked(NativeBuffer[] buffers, int layer, KvCacheDType want) =>
        Shape.DType == want ? (byte*)buffers[layer].Pointer : throw new InvalidOperationException($"the KV cache holds {Shape.DType}, not {want}");

    public void Dispose()
    {
        foreach (var b in _k) b.Dispose();
        foreach (var b in _v) b.Dispose();
    }
}
