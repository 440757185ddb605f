namespace Inference.Kernels.Ilgpu.Kernels;

/// <summary>Scalar arguments of <see cref="PagedAttentionKernel"/>.</summary>
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

    public readonly int Ratio => NumHeads / NumKvHeads;
    public readonly int QueryRows => TileTokens * Ratio;

    /// <summary>Floats of dynamic shared memory one group needs.</summary>
    public readonly int SharedFloats => 2 * QueryRows * HeadDim + 2 * KeyChunk * HeadDim + QueryRows * KeyChunk + 3 * QueryRows;
}
