using Inference.Kernels.Cpu;

namespace Inference.Tests.Cpu;

public sealed class WorkerPoolTests
{
    /// <summary>Counts how often each item ran, into the array of the job that owns it.</summary>
    private readonly struct CountJob(int[] hits) : IParallelJob
    {
        public void Execute(int index) => Interlocked.Increment(ref hits[index]);
    }

    /// <summary>The same, as a second job type: the pool keeps one runner per type.</summary>
    private readonly struct OtherCountJob(int[] hits) : IParallelJob
    {
        public void Execute(int index) => Interlocked.Increment(ref hits[index]);
    }

    /// <summary>
    /// Many back-to-back runs of two job types with different item counts, as a decode step issues them: every
    /// item of every run must execute exactly once, and no run may hang. A worker that woke while a run was
    /// being set up once paired the previous job and count with the new generation: it ran the old job's items,
    /// the done count overshot, and Run spun forever (seen as a hung BenchmarkDotNet decode step).
    /// </summary>
    [Fact]
    public async Task BackToBackRunsExecuteEachItemOnceAndNeverHang()
    {
        var work = Task.Run(() =>
        {
            using var pool = new WorkerPool(Math.Max(2, Environment.ProcessorCount));
            var a = new int[3];
            var b = new int[17];
            for (int i = 0; i < 200_000; i++)
            {
                bool first = (i & 1) == 0;
                var hits = first ? a : b;
                Array.Clear(hits);
                if (first)
                {
                    var job = new CountJob(hits);
                    pool.Run(hits.Length, ref job);
                }
                else
                {
                    var job = new OtherCountJob(hits);
                    pool.Run(hits.Length, ref job);
                }
                for (int k = 0; k < hits.Length; k++)
                    if (hits[k] != 1) throw new InvalidOperationException($"run {i}: item {k} of {hits.Length} ran {hits[k]} times");
            }
        });
        var done = await Task.WhenAny(work, Task.Delay(TimeSpan.FromSeconds(120)));
        Assert.True(done == work, "the worker pool hung");
        await work;
    }

    /// <summary>
    /// The same for contiguous runs mixed with plain ones (a decode step issues both: matvecs contiguous, attention
    /// and norms plain), with item counts from 2 up to more than 16 bits can hold (those fall back to a plain run).
    /// </summary>
    [Fact]
    public async Task ContiguousRunsMixedWithPlainOnesExecuteEachItemOnceAndNeverHang()
    {
        var work = Task.Run(() =>
        {
            using var pool = new WorkerPool(Math.Max(2, Environment.ProcessorCount));
            int[] sizes = [2, 3, 17, 64, 255];
            var arrays = sizes.Select(n => new int[n]).ToArray();
            for (int i = 0; i < 200_000; i++)
            {
                var hits = arrays[i % arrays.Length];
                Array.Clear(hits);
                if (i % 3 == 0)
                {
                    var job = new CountJob(hits);
                    pool.Run(hits.Length, ref job);
                }
                else
                {
                    var job = new OtherCountJob(hits);
                    pool.RunContiguous(hits.Length, ref job);
                }
                for (int k = 0; k < hits.Length; k++)
                    if (hits[k] != 1) throw new InvalidOperationException($"run {i}: item {k} of {hits.Length} ran {hits[k]} times");
            }
            var many = new int[WorkerPool.MaxContiguous + 10];
            var manyJob = new CountJob(many);
            pool.RunContiguous(many.Length, ref manyJob);
            for (int k = 0; k < many.Length; k++)
                if (many[k] != 1) throw new InvalidOperationException($"item {k} of {many.Length} ran {many[k]} times");
        });
        var done = await Task.WhenAny(work, Task.Delay(TimeSpan.FromSeconds(120)));
        Assert.True(done == work, "the worker pool hung");
        await work;
    }

    /// <summary>Records the order in which the calling thread ran items.</summary>
    private sealed class Order(int callerId)
    {
        public readonly List<int> Caller = [];

        public void Ran(int index)
        {
            if (Environment.CurrentManagedThreadId == callerId)
                lock (Caller) Caller.Add(index);
        }
    }

    private readonly struct OrderJob(Order order) : IParallelJob
    {
        public void Execute(int index) => order.Ran(index);
    }

    /// <summary>
    /// The caller owns the first run of items and works through it front to back; others only take from its back
    /// end. So whatever the scheduling, the items of its own run that it executed are 0, 1, 2, ... in that order,
    /// i.e. one stream read from its start.
    /// </summary>
    [Theory]
    [InlineData(2, 40)]
    [InlineData(2, 7)]
    [InlineData(3, 100)]
    [InlineData(4, 9)]
    public void ContiguousRunGivesTheCallerAPrefixOfItsRunInOrder(int threads, int count)
    {
        using var pool = new WorkerPool(threads);
        int parts = Math.Min(threads, count);
        int ownEnd = count / parts; // the caller's run is [0, count / parts)
        for (int rep = 0; rep < 2000; rep++)
        {
            var order = new Order(Environment.CurrentManagedThreadId);
            var job = new OrderJob(order);
            pool.RunContiguous(count, ref job);
            var own = order.Caller.Where(i => i < ownEnd).ToList();
            Assert.Equal(Enumerable.Range(0, own.Count), own);
        }
    }

    private readonly struct ThrowingJob(int bad) : IParallelJob
    {
        public void Execute(int index)
        {
            if (index == bad) throw new InvalidOperationException($"item {index} failed");
        }
    }

    [Fact]
    public void ContiguousRunReportsAFailingItem()
    {
        using var pool = new WorkerPool(2);
        var job = new ThrowingJob(13);
        var e = Assert.Throws<AggregateException>(() => pool.RunContiguous(20, ref job));
        Assert.Contains("item 13 failed", e.InnerException!.Message);
        var ok = new CountJob(new int[5]);
        pool.RunContiguous(5, ref ok); // the pool still works after a failure
    }
}
