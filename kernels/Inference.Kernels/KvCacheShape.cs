namespace Inference.Kernels;

/// <summary>
/// Shape of the paged KV pool: per layer, K and V are [NumBlocks, BlockSize, NumKvHeads, HeadDim]; a slot
/// is block * BlockSize + offset, so one token's K (or V) for all heads is one contiguous row.
/// </summary>
public readonly record struct KvCacheShape(int NumLayers, int NumBlocks, int BlockSize, int NumKvHeads, int HeadDim)
{
    public int KvDim => NumKvHeads * HeadDim;
    public int NumSlots => NumBlocks * BlockSize;
    /// <summary>Bytes per block over all layers, K and V, at the given element size.</summary>
    public long BytesPerBlock(int elementBytes) => 2L * NumLayers * BlockSize * KvDim * elementBytes;
}
