namespace Inference.Kernels;

/// <summary>Element type of the paged K/V pool.</summary>
public enum KvCacheDType
{
    F32,
    /// <summary>IEEE half: halves the bytes attention streams per key; values widen to F32 before any math.</summary>
    F16,
    /// <summary>
    /// bfloat16 (F32's upper 16 bits, rounded to nearest even): the same bytes as F16 with F32's range and an
    /// 8-bit mantissa. Widening is a 16-bit shift, so on CPUs without a half-to-float instruction .NET can use,
    /// it is what makes a 16-bit cache faster than F32 rather than slower. CPU backend only.
    /// </summary>
    BF16,
}

/// <summary>
/// Shape of the paged KV pool: per layer, K and V are [NumBlocks, BlockSize, NumKvHeads, HeadDim]; a slot
/// is block * BlockSize + offset, so one token's K (or V) for all heads is one contiguous row.
/// </summary>
public readonly record struct KvCacheShape(int NumLayers, int NumBlocks, int BlockSize, int NumKvHeads, int HeadDim,
    KvCacheDType DType = KvCacheDType.F32)
{
    public int KvDim => NumKvHeads * HeadDim;
    public int NumSlots => NumBlocks * BlockSize;
    public int ElementBytes => DType is KvCacheDType.F16 or KvCacheDType.BF16 ? 2 : sizeof(float);
    /// <summary>Bytes per block over all layers, K and V, at the given element size.</summary>
    public long BytesPerBlock(int elementBytes) => 2L * NumLayers * BlockSize * KvDim * elementBytes;
    /// <summary>Bytes per block over all layers, K and V, at this pool's element type.</summary>
    public long BytesPerBlock() => BytesPerBlock(ElementBytes);
}
