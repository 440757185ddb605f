using Inference.Sampling;
using Inference.Scheduling;

namespace Inference.Tests.Scheduling;

public class KvCacheManagerTests
{
    private static Request Req(string id, params int[] tokens) => new(id, tokens, new SamplingParams());

    private static int[] Range(int start, int count) => Enumerable.Range(start, count).ToArray();

    private static void Compute(KvCacheManager kv, Request r)
    {
        var (hits, numHit) = kv.GetComputedBlocks(r);
        Assert.True(kv.AllocateSlots(r, r.NumTokens - numHit, numHit, hits));
        r.NumComputedTokens = r.NumTokens;
        kv.CacheFullBlocks(r, r.NumTokens);
    }

    [Fact]
    public void PrefixHitReusesBlocksAndCountsTokens()
    {
        var kv = new KvCacheManager(numBlocks: 16, blockSize: 16);
        Request a = Req("a", Range(0, 40));
        Compute(kv, a);
        int[] aTable = kv.GetBlockTable(a).ToArray();
        Assert.Equal(3, aTable.Length);
        Assert.Equal(40, kv.PrefixCacheQueries);
        Assert.Equal(0, kv.PrefixCacheHits);
        kv.Free(a);
        Assert.Equal(15, kv.NumFreeBlocks);

        Request b = Req("b", [.. Range(0, 32), .. Range(500, 10)]);
        var (hits, numHit) = kv.GetComputedBlocks(b);
        Assert.Equal(32, numHit);
        Assert.Equal(aTable[..2], hits.Select(h => h.Id));
        Assert.True(kv.AllocateSlots(b, b.NumTokens - numHit, numHit, hits));
        Assert.Equal(aTable[..2], kv.GetBlockTable(b).Take(2));
        Assert.Equal(40 + 42, kv.PrefixCacheQueries);
        Assert.Equal(32, kv.PrefixCacheHits);
        Assert.Equal(12, kv.NumFreeBlocks);
    }

    [Fact]
    public void FullyCachedPromptStillRecomputesItsLastToken()
    {
        var kv = new KvCacheManager(numBlocks: 16, blockSize: 16);
        Compute(kv, Req("a", Range(0, 32)));
        var (_, numHit) = kv.GetComputedBlocks(Req("b", Range(0, 32)));
        Assert.Equal(16, numHit);
        Assert.Equal(32, kv.GetComputedBlocks(Req("c", Range(0, 33))).NumComputedTokens);
    }

    [Fact]
    public void SharedHitsAreReferencedByBothRequests()
    {
        var kv = new KvCacheManager(numBlocks: 16, blockSize: 4);
        Request a = Req("a", Range(0, 9));
        Compute(kv, a);
        Request b = Req("b", Range(0, 9));
        Compute(kv, b);
        Assert.Equal(kv.GetBlockTable(a).Take(2), kv.GetBlockTable(b).Take(2));
        Assert.Equal(2, kv.GetBlocks(a)[0].RefCount);
        Assert.Equal(1, kv.GetBlocks(a)[2].RefCount);
        kv.Free(a);
        kv.Free(b);
        Assert.Equal(15, kv.NumFreeBlocks);
        Assert.Equal(2, kv.Pool.NumCachedBlocks);
    }

    [Fact]
    public void HitsSittingInTheFreeQueueCountAgainstAllocation()
    {
        // 3 usable blocks: a caches 2 then frees everything; b hits those 2 and needs 2 more: 4 > 3.
        var kv = new KvCacheManager(numBlocks: 4, blockSize: 4);
        Request a = Req("a", Range(0, 9));
        Compute(kv, a);
        kv.Free(a);
        Request b = Req("b", [.. Range(0, 8), .. Range(100, 8)]);
        var (hits, numHit) = kv.GetComputedBlocks(b);
        Assert.Equal(8, numHit);
        Assert.False(kv.AllocateSlots(b, b.NumTokens - numHit, numHit, hits));
        Assert.Equal(3, kv.NumFreeBlocks);
        Assert.Equal(9, kv.PrefixCacheQueries); // a failed admission is not a query
        Assert.Empty(kv.GetBlockTable(b));
    }

    [Fact]
    public void EvictionForgetsTheHash()
    {
        var kv = new KvCacheManager(numBlocks: 3, blockSize: 4);
        Request a = Req("a", Range(0, 5));
        Compute(kv, a);
        kv.Free(a);
        Request b = Req("b", Range(100, 8));
        Compute(kv, b); // needs both usable blocks: evicts a's cached block
        Assert.Equal(0, kv.GetComputedBlocks(Req("c", Range(0, 5))).NumComputedTokens);
    }

    [Fact]
    public void DisabledPrefixCachingNeverHitsNorCounts()
    {
        var kv = new KvCacheManager(numBlocks: 16, blockSize: 4, enablePrefixCaching: false);
        Request a = Req("a", Range(0, 9));
        Compute(kv, a);
        Assert.Equal(0, kv.Pool.NumCachedBlocks);
        Assert.Equal(0, kv.GetComputedBlocks(Req("b", Range(0, 9))).NumComputedTokens);
        Assert.Equal(0, kv.PrefixCacheQueries);
    }

    [Fact]
    public void AllocationGrowsBlockByBlock()
    {
        var kv = new KvCacheManager(numBlocks: 4, blockSize: 4);
        Request a = Req("a", Range(0, 4));
        Assert.True(kv.AllocateSlots(a, 4));
        Assert.Single(kv.GetBlockTable(a));
        a.NumComputedTokens = 4;
        Assert.True(kv.AllocateSlots(a, 1));
        Assert.Equal(2, kv.GetBlockTable(a).Count);
        a.NumComputedTokens = 5;
        Assert.True(kv.AllocateSlots(a, 3));
        Assert.Equal(2, kv.GetBlockTable(a).Count);
        a.NumComputedTokens = 8;
        Assert.True(kv.AllocateSlots(a, 4));
        Assert.False(kv.AllocateSlots(a, 8));
        Assert.Equal(3, kv.GetBlockTable(a).Count);
    }
}
