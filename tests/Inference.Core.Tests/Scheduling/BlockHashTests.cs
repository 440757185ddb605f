using Inference.Sampling;
using Inference.Scheduling;

namespace Inference.Tests.Scheduling;

public class BlockHashTests
{
    [Fact]
    public void HashIsDeterministicAndChainsOnTheParent()
    {
        int[] tokens = [5, 6, 7, 8];
        BlockHash a = BlockHash.Compute(BlockHash.None, tokens);
        Assert.Equal(a, BlockHash.Compute(BlockHash.None, [5, 6, 7, 8]));
        Assert.NotEqual(a, BlockHash.Compute(BlockHash.None, [5, 6, 7, 9]));
        Assert.NotEqual(a, BlockHash.Compute(new BlockHash(1, 0), tokens));
        Assert.NotEqual(a, BlockHash.Compute(BlockHash.None, [6, 5, 7, 8]));
    }

    [Fact]
    public void SameBlockAfterDifferentPrefixesHashesDifferently()
    {
        var kv = new KvCacheManager(numBlocks: 8, blockSize: 4);
        var x = new Request("x", [1, 2, 3, 4, 9, 9, 9, 9, 0], new SamplingParams());
        var y = new Request("y", [1, 2, 3, 5, 9, 9, 9, 9, 0], new SamplingParams());
        kv.EnsureBlockHashes(x, 2);
        kv.EnsureBlockHashes(y, 2);
        Assert.NotEqual(x.BlockHashes[1], y.BlockHashes[1]);
        Assert.Equal(x.BlockHashes[1], BlockHash.Compute(x.BlockHashes[0], [9, 9, 9, 9]));
    }

    [Fact]
    public void LongBlocksHashThroughTheRentedBuffer()
    {
        int[] tokens = Enumerable.Range(0, 1000).ToArray();
        BlockHash a = BlockHash.Compute(BlockHash.None, tokens);
        tokens[999] = -1;
        Assert.NotEqual(a, BlockHash.Compute(BlockHash.None, tokens));
    }

    [Fact]
    public void CollidingHashIsDetectedAndTreatedAsAMiss()
    {
        // Every block hashes to the same value whatever its tokens: all different content collides.
        static BlockHash Colliding(BlockHash parent, ReadOnlySpan<int> tokens) => new(42, parent.Lo);
        var kv = new KvCacheManager(numBlocks: 16, blockSize: 4, enablePrefixCaching: true, Colliding);

        var a = new Request("a", [1, 2, 3, 4, 5, 6, 7, 8, 9], new SamplingParams());
        Assert.True(kv.AllocateSlots(a, a.NumTokens));
        a.NumComputedTokens = a.NumTokens;
        kv.CacheFullBlocks(a, a.NumTokens);
        Assert.Equal(2, kv.Pool.NumCachedBlocks);

        var b = new Request("b", [1, 2, 3, 99, 5, 6, 7, 8, 9], new SamplingParams());
        var (hits, numHit) = kv.GetComputedBlocks(b);
        Assert.Empty(hits);
        Assert.Equal(0, numHit);

        // b's own blocks collide with a's on caching: b stops caching, a's entries stay intact.
        Assert.True(kv.AllocateSlots(b, b.NumTokens));
        b.NumComputedTokens = b.NumTokens;
        kv.CacheFullBlocks(b, b.NumTokens);
        Assert.Equal(2, kv.Pool.NumCachedBlocks);
        Assert.All(kv.GetBlocks(b), block => Assert.Null(block.Hash));

        // Same content still hits despite the degenerate hash.
        var c = new Request("c", [1, 2, 3, 4, 5, 6, 7, 8, 0], new SamplingParams());
        Assert.Equal(8, kv.GetComputedBlocks(c).NumComputedTokens);
    }

    [Fact]
    public void PoolReportsCollisionWhenContentDiffers()
    {
        var pool = new BlockPool(numBlocks: 4, blockSize: 2);
        var blocks = new List<KvBlock>();
        pool.TryAllocate(3, blocks);
        var h = new BlockHash(7, 7);
        Assert.Equal(CacheBlockResult.Cached, pool.CacheBlock(blocks[0], h, BlockHash.None, [1, 2]));
        Assert.Equal(CacheBlockResult.Duplicate, pool.CacheBlock(blocks[1], h, BlockHash.None, [1, 2]));
        Assert.Equal(CacheBlockResult.Collision, pool.CacheBlock(blocks[2], h, BlockHash.None, [1, 3]));
        Assert.Equal(CacheBlockResult.Collision, pool.CacheBlock(blocks[2], h, new BlockHash(1, 1), [1, 2]));
        Assert.Null(pool.GetCachedBlock(h, BlockHash.None, [2, 1]));
        Assert.Null(pool.GetCachedBlock(h, new BlockHash(1, 1), [1, 2]));
        Assert.Same(blocks[0], pool.GetCachedBlock(h, BlockHash.None, [1, 2]));
    }
}
