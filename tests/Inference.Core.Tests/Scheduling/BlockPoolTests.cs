using Inference.Scheduling;

namespace Inference.Tests.Scheduling;

public class BlockPoolTests
{
    private static readonly int[] Tokens = [1, 2, 3, 4];

    private static BlockHash H(ulong i) => new(i, 0);

    [Fact]
    public void NullBlockIsNeverHandedOutAndShortageTakesNothing()
    {
        var pool = new BlockPool(numBlocks: 4, blockSize: 4);
        var got = new List<KvBlock>();
        Assert.False(pool.TryAllocate(4, got));
        Assert.Empty(got);
        Assert.Equal(3, pool.NumFreeBlocks);

        Assert.True(pool.TryAllocate(3, got));
        Assert.Equal([1, 2, 3], got.Select(b => b.Id));
        Assert.All(got, b => Assert.Equal(1, b.RefCount));
        Assert.Equal(0, pool.NumFreeBlocks);
        Assert.Equal(1f, pool.Usage);
        Assert.False(pool.TryAllocate(1, got));
    }

    [Fact]
    public void FreedCachedBlocksAreEvictedLeastRecentlyFreedFirst()
    {
        var pool = new BlockPool(numBlocks: 5, blockSize: 4);
        var blocks = new List<KvBlock>();
        Assert.True(pool.TryAllocate(4, blocks));
        for (int i = 0; i < 4; i++)
            Assert.Equal(CacheBlockResult.Cached, pool.CacheBlock(blocks[i], H((ulong)blocks[i].Id), BlockHash.None, Tokens));

        foreach (int id in new[] { 3, 1, 4, 2 })
            pool.Free(pool.GetBlock(id));
        Assert.Equal([3, 1, 4, 2], pool.FreeBlocksInEvictionOrder().Select(b => b.Id));
        Assert.Equal(0f, pool.Usage);
        // Freed blocks stay findable until reused.
        Assert.Same(pool.GetBlock(3), pool.GetCachedBlock(H(3), BlockHash.None, Tokens));

        var one = new List<KvBlock>();
        Assert.True(pool.TryAllocate(1, one));
        Assert.Equal(3, one[0].Id);
        Assert.Null(one[0].Hash);
        Assert.Null(pool.GetCachedBlock(H(3), BlockHash.None, Tokens));
        Assert.Equal(3, pool.NumCachedBlocks);

        // A hit on a free cached block pulls it out of the queue, so eviction skips it.
        KvBlock hit = pool.GetCachedBlock(H(4), BlockHash.None, Tokens)!;
        pool.Touch([hit]);
        Assert.Equal(1, hit.RefCount);
        Assert.Equal([1, 2], pool.FreeBlocksInEvictionOrder().Select(b => b.Id));

        var two = new List<KvBlock>();
        Assert.True(pool.TryAllocate(2, two));
        Assert.Equal([1, 2], two.Select(b => b.Id));
        Assert.Same(hit, pool.GetCachedBlock(H(4), BlockHash.None, Tokens));
        Assert.Equal(0, pool.NumFreeBlocks);
    }

    [Fact]
    public void RefCountsTrackSharingAndDoubleFreeThrows()
    {
        var pool = new BlockPool(numBlocks: 3, blockSize: 4);
        var blocks = new List<KvBlock>();
        Assert.True(pool.TryAllocate(1, blocks));
        KvBlock block = blocks[0];
        pool.CacheBlock(block, H(9), BlockHash.None, Tokens);
        pool.Touch([block]);
        Assert.Equal(2, block.RefCount);

        pool.Free(block);
        Assert.Equal(1, block.RefCount);
        Assert.Equal(1, pool.NumFreeBlocks);
        pool.Free(block);
        Assert.Equal(0, block.RefCount);
        Assert.Equal(2, pool.NumFreeBlocks);
        Assert.Throws<InvalidOperationException>(() => pool.Free(block));
    }

    [Fact]
    public void ResetPrefixCacheIsRefusedWhileBlocksAreInUse()
    {
        var pool = new BlockPool(numBlocks: 3, blockSize: 4);
        var blocks = new List<KvBlock>();
        pool.TryAllocate(1, blocks);
        pool.CacheBlock(blocks[0], H(1), BlockHash.None, Tokens);
        Assert.False(pool.ResetPrefixCache());
        pool.Free(blocks[0]);
        Assert.True(pool.ResetPrefixCache());
        Assert.Null(pool.GetCachedBlock(H(1), BlockHash.None, Tokens));
        Assert.Null(blocks[0].Hash);
        Assert.Equal(0, pool.NumCachedBlocks);
    }
}
