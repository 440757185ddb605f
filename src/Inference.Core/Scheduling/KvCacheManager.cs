using System.Diagnostics;

namespace Inference.Scheduling;

/// <summary>The scheduler's view of KV memory: per-request block tables, slot allocation and the prefix cache.</summary>
/// <remarks>
/// Not thread-safe; owned by the engine loop. A request holds blocks only while running: preemption, finish and
/// abort all go through <see cref="Free"/>, and its full blocks stay cached (findable) until evicted.
/// </remarks>
public sealed class KvCacheManager
{
    private readonly Dictionary<string, RequestBlocks> _requests = [];
    private readonly BlockHasher _hasher;
    // Reused by GetComputedBlocks: the hit list lives only until AllocateSlots consumes it in the same step.
    private readonly List<KvBlock> _hitScratch = [];
    private readonly int[] _tokenScratch;

    public KvCacheManager(int numBlocks, int blockSize, bool enablePrefixCaching = true)
        : this(numBlocks, blockSize, enablePrefixCaching, BlockHash.Compute)
    {
    }

    internal KvCacheManager(int numBlocks, int blockSize, bool enablePrefixCaching, BlockHasher hasher)
    {
        Pool = new BlockPool(numBlocks, blockSize);
        BlockSize = blockSize;
        EnablePrefixCaching = enablePrefixCaching;
        _hasher = hasher;
        _tokenScratch = new int[blockSize];
    }

    public BlockPool Pool { get; }

    public int BlockSize { get; }

    public bool EnablePrefixCaching { get; }

    /// <summary>Tokens looked up in the prefix cache (a request's whole token count, once per admission), as vLLM counts.</summary>
    public long PrefixCacheQueries { get; private set; }

    /// <summary>Tokens found in the prefix cache.</summary>
    public long PrefixCacheHits { get; private set; }

    public int NumFreeBlocks => Pool.NumFreeBlocks;

    public float Usage => Pool.Usage;

    public int BlocksNeeded(int numTokens) => (numTokens + BlockSize - 1) / BlockSize;

    /// <summary>Longest run of cached full blocks at the start of the request's tokens, and the tokens they cover.</summary>
    /// <remarks>
    /// Never covers the whole sequence: the last token is always left to compute so the step yields logits.
    /// The returned list is reused by the next call; pass it straight to <see cref="AllocateSlots"/>.
    /// Read-only: takes no references and counts nothing, so a request that then fails to get blocks costs nothing.
    /// </remarks>
    public (IReadOnlyList<KvBlock> Blocks, int NumComputedTokens) GetComputedBlocks(Request request)
    {
        _hitScratch.Clear();
        if (!EnablePrefixCaching || request.NumTokens == 0) return (_hitScratch, 0);
        int maxHitBlocks = (request.NumTokens - 1) / BlockSize;
        EnsureBlockHashes(request, maxHitBlocks);
        BlockHash parent = BlockHash.None;
        for (int i = 0; i < maxHitBlocks; i++)
        {
            BlockHash hash = request.BlockHashes[i];
            request.CopyTokens(i * BlockSize, _tokenScratch);
            KvBlock? block = Pool.GetCachedBlock(hash, parent, _tokenScratch);
            if (block is null) break;
            _hitScratch.Add(block);
            parent = hash;
        }
        return (_hitScratch, _hitScratch.Count * BlockSize);
    }

    /// <summary>Grows the request's block table to hold its computed tokens, the prefix-cache hits and numNewTokens more.</summary>
    /// <returns>False, with nothing changed, when the pool is short: the caller preempts or waits.</returns>
    public bool AllocateSlots(Request request, int numNewTokens, int numNewComputedTokens = 0, IReadOnlyList<KvBlock>? newComputedBlocks = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(numNewTokens);
        int numHitBlocks = newComputedBlocks?.Count ?? 0;
        Debug.Assert(numHitBlocks * BlockSize == numNewComputedTokens, "hit tokens must be exactly the hit blocks");
        _requests.TryGetValue(request.Id, out RequestBlocks? state);
        Debug.Assert(numHitBlocks == 0 || state is null, "prefix hits only apply when a request is admitted");

        int have = (state?.Blocks.Count ?? 0) + numHitBlocks;
        int required = BlocksNeeded(request.NumComputedTokens + numNewComputedTokens + numNewTokens);
        int numNew = Math.Max(0, required - have);
        // Hits sitting in the free queue stop being free once referenced, so they compete with the new blocks.
        int hitsInFreeQueue = 0;
        for (int i = 0; i < numHitBlocks; i++)
            if (newComputedBlocks![i].RefCount == 0) hitsInFreeQueue++;
        if (numNew + hitsInFreeQueue > Pool.NumFreeBlocks) return false;

        bool admitted = state is null;
        if (state is null)
        {
            state = new RequestBlocks();
            _requests.Add(request.Id, state);
        }
        if (numHitBlocks > 0)
        {
            Pool.Touch(newComputedBlocks!);
            for (int i = 0; i < numHitBlocks; i++)
                state.Add(newComputedBlocks![i]);
            state.NumCachedBlocks = numHitBlocks;
        }
        int before = state.Blocks.Count;
        bool ok = Pool.TryAllocate(numNew, state.Blocks);
        Debug.Assert(ok);
        for (int i = before; i < state.Blocks.Count; i++)
            state.Ids.Add(state.Blocks[i].Id);

        if (admitted && EnablePrefixCaching)
        {
            PrefixCacheQueries += request.NumTokens;
            PrefixCacheHits += numNewComputedTokens;
        }
        return true;
    }

    /// <summary>Makes the request's full blocks among its first numTokens (already computed) tokens findable by later requests.</summary>
    public void CacheFullBlocks(Request request, int numTokens)
    {
        if (!EnablePrefixCaching || !_requests.TryGetValue(request.Id, out RequestBlocks? state) || state.CachingStopped) return;
        int numFull = Math.Min(numTokens / BlockSize, state.Blocks.Count);
        if (numFull <= state.NumCachedBlocks) return;
        EnsureBlockHashes(request, numFull);
        int i = state.NumCachedBlocks;
        for (; i < numFull; i++)
        {
            BlockHash parent = i == 0 ? BlockHash.None : request.BlockHashes[i - 1];
            request.CopyTokens(i * BlockSize, _tokenScratch);
            if (Pool.CacheBlock(state.Blocks[i], request.BlockHashes[i], parent, _tokenScratch) == CacheBlockResult.Collision)
            {
                // The blocks after a collision are children of a hash that names other content; caching them
                // would let a later lookup chain through the wrong parent, so this request caches no more.
                state.CachingStopped = true;
                break;
            }
        }
        state.NumCachedBlocks = i;
    }

    /// <summary>Drops the request's references (last block first, so its shared prefix is evicted last); blocks stay cached.</summary>
    public void Free(Request request)
    {
        if (!_requests.Remove(request.Id, out RequestBlocks? state)) return;
        for (int i = state.Blocks.Count - 1; i >= 0; i--)
            Pool.Free(state.Blocks[i]);
    }

    /// <summary>Block ids for the request, position order. A live view: valid until the next allocation or free.</summary>
    public IReadOnlyList<int> GetBlockTable(Request request) =>
        _requests.TryGetValue(request.Id, out RequestBlocks? state) ? state.Ids : [];

    public bool ResetPrefixCache() => Pool.ResetPrefixCache();

    internal IReadOnlyList<KvBlock> GetBlocks(Request request) =>
        _requests.TryGetValue(request.Id, out RequestBlocks? state) ? state.Blocks : [];

    internal int NumTrackedRequests => _requests.Count;

    /// <summary>Extends the request's hash cache to its first count full blocks (tokens are append-only, so hashes never go stale).</summary>
    internal void EnsureBlockHashes(Request request, int count)
    {
        List<BlockHash> hashes = request.BlockHashes;
        Debug.Assert(count * BlockSize <= request.NumTokens);
        while (hashes.Count < count)
        {
            int i = hashes.Count;
            request.CopyTokens(i * BlockSize, _tokenScratch);
            hashes.Add(_hasher(i == 0 ? BlockHash.None : hashes[i - 1], _tokenScratch));
        }
    }

    private sealed class RequestBlocks
    {
        public readonly List<KvBlock> Blocks = [];
        public readonly List<int> Ids = [];
        /// <summary>Leading blocks already offered to the prefix cache (cached, or duplicates of cached ones).</summary>
        public int NumCachedBlocks;
        public bool CachingStopped;

        public void Add(KvBlock block)
        {
            Blocks.Add(block);
            Ids.Add(block.Id);
        }
    }
}
