namespace Inference.Scheduling;

/// <summary>Outcome of offering a full block to the prefix cache.</summary>
public enum CacheBlockResult
{
    /// <summary>The block is now findable under its hash.</summary>
    Cached,
    /// <summary>Another block with the same hash and the same content is already cached; this one stays private.</summary>
    Duplicate,
    /// <summary>Another block has the same hash but different content: a hash collision; this one stays private.</summary>
    Collision,
}

/// <summary>Fixed set of KV blocks: ref counts, an LRU free queue, and the hash-to-block map of the prefix cache.</summary>
/// <remarks>
/// Block 0 is a reserved null block (a padding target for the backend) and is never handed out.
/// A freed block keeps its hash and stays findable until the pool needs it: allocation takes from the head of
/// the free queue and frees go to the tail, so cached blocks are evicted least recently freed first.
/// </remarks>
public sealed class BlockPool
{
    private readonly KvBlock[] _blocks;
    private readonly FreeBlockQueue _free = new();
    private readonly Dictionary<BlockHash, KvBlock> _cached = [];

    public BlockPool(int numBlocks, int blockSize)
    {
        if (numBlocks < 2) throw new ArgumentOutOfRangeException(nameof(numBlocks), numBlocks, "need the null block plus at least one usable block");
        if (blockSize < 1) throw new ArgumentOutOfRangeException(nameof(blockSize), blockSize, "must be >= 1");
        BlockSize = blockSize;
        _blocks = new KvBlock[numBlocks];
        for (int i = 0; i < numBlocks; i++)
            _blocks[i] = new KvBlock(i);
        for (int i = 1; i < numBlocks; i++)
            _free.Append(_blocks[i]);
    }

    public int NumBlocks => _blocks.Length;

    public int BlockSize { get; }

    /// <summary>Blocks with no running owner (including cached ones that can be evicted).</summary>
    public int NumFreeBlocks => _free.Count;

    /// <summary>Blocks currently findable by the prefix cache, referenced or not.</summary>
    public int NumCachedBlocks => _cached.Count;

    /// <summary>Fraction of usable blocks (the null block excluded) held by running requests, in [0, 1].</summary>
    public float Usage => 1f - NumFreeBlocks / (float)(NumBlocks - 1);

    public KvBlock NullBlock => _blocks[0];

    public KvBlock GetBlock(int id) => _blocks[id];

    /// <summary>Takes n blocks from the head of the free queue (evicting their hashes) into destination,
    /// or takes nothing and returns false when fewer than n are free.</summary>
    public bool TryAllocate(int n, List<KvBlock> destination)
    {
        if (n > _free.Count) return false;
        for (int i = 0; i < n; i++)
        {
            KvBlock block = _free.PopFront();
            Evict(block);
            block.RefCount = 1;
            destination.Add(block);
        }
        return true;
    }

    /// <summary>Adds a reference to prefix-cache hits, pulling free ones out of the free queue.</summary>
    public void Touch(IReadOnlyList<KvBlock> blocks)
    {
        for (int i = 0; i < blocks.Count; i++)
        {
            KvBlock block = blocks[i];
            if (block.RefCount == 0)
                _free.Remove(block);
            block.RefCount++;
        }
    }

    /// <summary>Drops one reference; at zero the block goes to the tail of the free queue, still cached.</summary>
    public void Free(KvBlock block)
    {
        if (block.IsNullBlock) return;
        if (block.RefCount <= 0) throw new InvalidOperationException($"double free of {block}");
        if (--block.RefCount == 0)
            _free.Append(block);
    }

    /// <summary>The cached block for this hash if its parent hash and tokens match too; a mismatch is a collision and a miss.</summary>
    public KvBlock? GetCachedBlock(BlockHash hash, BlockHash parentHash, ReadOnlySpan<int> tokens)
    {
        if (!_cached.TryGetValue(hash, out KvBlock? block)) return null;
        return SameContent(block, parentHash, tokens) ? block : null;
    }

    /// <summary>Makes a full, computed block findable under hash; the pool keeps a copy of its tokens to verify hits.</summary>
    public CacheBlockResult CacheBlock(KvBlock block, BlockHash hash, BlockHash parentHash, ReadOnlySpan<int> tokens)
    {
        if (tokens.Length != BlockSize) throw new ArgumentException($"a cached block holds exactly {BlockSize} tokens, got {tokens.Length}", nameof(tokens));
        if (block.Hash is not null) throw new InvalidOperationException($"{block} is already cached");
        if (_cached.TryGetValue(hash, out KvBlock? existing))
            return SameContent(existing, parentHash, tokens) ? CacheBlockResult.Duplicate : CacheBlockResult.Collision;
        block.Tokens ??= new int[BlockSize];
        tokens.CopyTo(block.Tokens);
        block.ParentHash = parentHash;
        block.Hash = hash;
        _cached.Add(hash, block);
        return CacheBlockResult.Cached;
    }

    /// <summary>Forgets every cached hash; refused (false) while any block is in use, since running requests
    /// would keep cached blocks that can no longer be found nor evicted correctly.</summary>
    public bool ResetPrefixCache()
    {
        if (NumFreeBlocks != NumBlocks - 1) return false;
        foreach (KvBlock block in _cached.Values)
            block.Hash = null;
        _cached.Clear();
        return true;
    }

    /// <summary>Free blocks head to tail, i.e. in the order they will be reused (tests and diagnostics).</summary>
    internal IEnumerable<KvBlock> FreeBlocksInEvictionOrder() => _free.InEvictionOrder();

    private void Evict(KvBlock block)
    {
        if (block.Hash is { } hash)
        {
            _cached.Remove(hash);
            block.Hash = null;
        }
    }

    private static bool SameContent(KvBlock block, BlockHash parentHash, ReadOnlySpan<int> tokens) =>
        block.ParentHash == parentHash && tokens.SequenceEqual(block.Tokens);
}
