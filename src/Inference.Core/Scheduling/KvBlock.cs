namespace Inference.Scheduling;

/// <summary>One fixed-size range of KV-cache slots: its ref count and, once full and cached, its prefix hash.</summary>
public sealed class KvBlock
{
    internal KvBlock(int id) => Id = id;

    /// <summary>Index into the backend's KV tensors; block 0 is the reserved null block.</summary>
    public int Id { get; }

    /// <summary>Number of running requests whose block table holds this block.</summary>
    public int RefCount { get; internal set; }

    /// <summary>Set while the block is in the pool's hash map (findable by the prefix cache), null otherwise.</summary>
    public BlockHash? Hash { get; internal set; }

    public bool IsNullBlock => Id == 0;

    // Kept with the hash so a lookup can prove the hit: the same parent and the same tokens, not just the same 128 bits.
    internal BlockHash ParentHash;
    internal int[]? Tokens;

    // Intrusive free-queue links: O(1) removal when a cached free block gets a prefix hit.
    internal KvBlock? PrevFree;
    internal KvBlock? NextFree;
    internal bool InFreeQueue;

    public override string ToString() => $"block {Id} ref {RefCount}{(Hash is { } h ? " #" + h : "")}";
}
