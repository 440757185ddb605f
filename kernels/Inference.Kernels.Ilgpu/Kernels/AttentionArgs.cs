namespace Inference.Kernels.Ilgpu.Kernels;

/// <summary>Scalar arguments of <see cref="PagedAttentionKernel"/> and <see cref="SplitKvMergeKernel"/>.</summary>
public struct AttentionArgs
{
    public int NumHeads;
    public int NumKvHeads;
    public int HeadDim;
    public float Scale;
    public int BlockSize;
    public int MaxBlocksPerSeq;
    /// <summary>Query tokens per tile (each brings NumHeads / NumKvHeads query rows).</summary>
    public int TileTokens;
    /// <summary>Keys staged in shared memory at a time; divides BlockSize.</summary>
    public int KeyChunk;
    /// <summary>Keys per KV partition (a multiple of BlockSize): key j belongs to partition j / PartitionKeys.</summary>
    public int PartitionKeys;
    /// <summary>Partition slots per (split token, head) in the partials buffer.</summary>
    public int MaxParts;

    public readonly int Ratio => NumHeads / NumKvHeads;
    public readonly int QueryRows => TileTokens * Ratio;

    /// <summary>Floats of one partial: HeadDim outputs, then max and sum.</summary>
    public readonly int PartialFloats => HeadDim + 2;

    /// <summary>Floats of dynamic shared memory one group needs.</summary>
    public readonly int SharedFloats => 2 * QueryRows * HeadDim + 2 * KeyChunk * HeadDim + QueryRows * KeyChunk + 7 * QueryRows;

    /// <summary>Where the partial of (split slot, head, partition) starts in the partials buffer.</summary>
    public readonly long PartialBase(int slot, int head, int part) => (((long)slot * NumHeads + head) * MaxParts + part) * PartialFloats;
}
