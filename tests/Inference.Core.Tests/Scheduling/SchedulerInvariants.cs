using Inference.Scheduling;

namespace Inference.Tests.Scheduling;

/// <summary>Memory invariants that must hold between any two steps.</summary>
internal static class SchedulerInvariants
{
    public static void Check(Scheduler scheduler)
    {
        KvCacheManager kv = scheduler.KvCacheManager;
        BlockPool pool = kv.Pool;
        var references = new int[pool.NumBlocks];
        Assert.True(scheduler.Running.Count <= scheduler.Config.MaxNumSeqs);
        foreach (Request r in scheduler.Running)
        {
            Assert.Equal(RequestStatus.Running, r.Status);
            IReadOnlyList<int> table = kv.GetBlockTable(r);
            Assert.True(table.Count * kv.BlockSize >= r.NumComputedTokens);
            Assert.Equal(table.Count, table.Distinct().Count());
            foreach (int id in table) references[id]++;
        }
        foreach (Request r in scheduler.Waiting)
        {
            Assert.True(r.Status is RequestStatus.Waiting or RequestStatus.Preempted);
            Assert.Equal(0, r.NumComputedTokens);
            Assert.Empty(kv.GetBlockTable(r));
        }
        Assert.Equal(scheduler.Running.Count, kv.NumTrackedRequests);

        KvBlock nullBlock = pool.NullBlock;
        Assert.Equal(0, nullBlock.RefCount);
        Assert.False(nullBlock.InFreeQueue);
        Assert.Equal(0, references[0]);
        int used = 0;
        for (int id = 1; id < pool.NumBlocks; id++)
        {
            KvBlock block = pool.GetBlock(id);
            Assert.True(references[id] == block.RefCount, $"block {id}: ref count {block.RefCount}, referenced by {references[id]} block tables");
            Assert.True(block.InFreeQueue == (block.RefCount == 0), $"block {id}: free={block.InFreeQueue} ref={block.RefCount}");
            if (block.RefCount > 0) used++;
        }
        Assert.Equal(pool.NumBlocks - 1, used + pool.NumFreeBlocks);
        Assert.Equal(pool.NumFreeBlocks, pool.FreeBlocksInEvictionOrder().Count());
        Assert.InRange(pool.Usage, 0f, 1f);
    }
}
