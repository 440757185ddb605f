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
}
