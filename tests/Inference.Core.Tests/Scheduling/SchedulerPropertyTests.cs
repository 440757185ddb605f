using Inference.Sampling;
using Inference.Scheduling;

namespace Inference.Tests.Scheduling;

/// <summary>Seeded random add / abort / step sequences with the memory invariants checked after every step.</summary>
public class SchedulerPropertyTests
{
    [Theory]
    [InlineData(1, true)]
    [InlineData(2, true)]
    [InlineData(3, false)]
    [InlineData(4, true)]
    public void RandomOperationsKeepInvariantsAndReleaseEverything(int seed, bool prefixCaching)
    {
        var rng = new Random(seed);
        var config = new SchedulerConfig
        {
            NumBlocks = 33,
            BlockSize = 4,
            MaxNumBatchedTokens = 24,
            MaxNumSeqs = 6,
            MaxModelLen = 200,
            EnablePrefixCaching = prefixCaching,
            LongPrefillTokenThreshold = seed == 4 ? 10 : 0,
        };
        var driver = new SchedulerDriver(config);
        Scheduler scheduler = driver.Scheduler;
        // A few shared prefixes so prefix hits, sibling deferral and sharing happen often.
        int[][] prefixes = [.. Enumerable.Range(0, 4).Select(p => Enumerable.Range(0, 4 + 4 * p).Select(i => 100 * (p + 1) + i).ToArray())];
        var live = new List<Request>();
        var all = new List<Request>();
        int steps = 0, errors = 0, aborted = 0;

        for (int op = 0; op < 1000; op++)
        {
            int roll = rng.Next(100);
            if (roll < 30)
            {
                Request r = RandomRequest(rng, $"r{op}", prefixes);
                all.Add(r);
                scheduler.AddRequest(r);
                if (r.Status == RequestStatus.FinishedError) errors++;
                else live.Add(r);
            }
            else if (roll < 38 && live.Count > 0)
            {
                Request victim = live[rng.Next(live.Count)];
                if (scheduler.AbortRequest(victim.Id)) aborted++;
                Assert.True(victim.IsFinished);
            }
            else
            {
                var (output, changed) = driver.Step(_ => rng.Next(0, 50));
                steps++;
                Assert.True(output.TotalNumScheduledTokens <= config.MaxNumBatchedTokens);
                Assert.Equal(output.TotalNumScheduledTokens, output.ScheduledRequests.Sum(s => s.NumNewTokens));
                Assert.True(output.ScheduledRequests.Count <= config.MaxNumSeqs);
                Assert.Equal(output.ScheduledRequests.Count, output.ScheduledRequests.Select(s => s.Request.Id).Distinct().Count());
                foreach (Request r in changed)
                    Assert.True(r.NumOutputTokens <= r.SamplingParams.MaxTokens);
            }
            live.RemoveAll(r => r.IsFinished);
            SchedulerInvariants.Check(scheduler);
            SchedulerStats stats = scheduler.GetStats();
            Assert.InRange(stats.KvCacheUsage, 0f, 1f);
            Assert.Equal(scheduler.KvCacheManager.NumFreeBlocks, stats.NumFreeBlocks);
            Assert.True(stats.PrefixCacheHits <= stats.PrefixCacheQueries);
        }

        // Finish what is left: half by running to completion, half by abort.
        if (seed % 2 == 0)
            foreach (Request r in live.ToArray()) scheduler.AbortRequest(r.Id);
        driver.RunToCompletion(sample: _ => rng.Next(0, 50));

        Assert.Equal(config.NumBlocks - 1, scheduler.KvCacheManager.NumFreeBlocks);
        Assert.Equal(0f, scheduler.KvCacheManager.Usage);
        Assert.Equal(0, scheduler.NumRunning);
        Assert.Equal(0, scheduler.NumWaiting);
        Assert.All(all, r => Assert.True(r.IsFinished, r.ToString()));
        foreach (Request r in all.Where(r => r.Status is RequestStatus.FinishedLength or RequestStatus.FinishedStopped))
        {
            Assert.True(r.NumOutputTokens >= 1);
            if (r.Status == RequestStatus.FinishedLength)
                Assert.True(r.NumOutputTokens == r.SamplingParams.MaxTokens || r.NumTokens >= r.MaxModelLen, r.ToString());
        }

        // The run must actually have exercised the interesting paths.
        SchedulerStats final = scheduler.GetStats();
        Assert.True(steps > 300);
        Assert.True(errors > 0, "no request was refused");
        Assert.True(aborted > 0, "nothing was aborted");
        Assert.True(final.NumPreemptionsTotal > 0, "no preemption happened");
        if (prefixCaching) Assert.True(final.PrefixCacheHits > 0, "no prefix hit");
        Assert.True(scheduler.ResetPrefixCache());
        Assert.Equal(0, scheduler.KvCacheManager.Pool.NumCachedBlocks);
    }

    private static Request RandomRequest(Random rng, string id, int[][] prefixes)
    {
        var prompt = new List<int>();
        if (rng.Next(2) == 0) prompt.AddRange(prefixes[rng.Next(prefixes.Length)]);
        int tail = rng.Next(prompt.Count == 0 ? 1 : 0, 30);
        for (int i = 0; i < tail; i++) prompt.Add(rng.Next(0, 1000));
        // Mostly modest requests, with some that can never fit in 32 blocks x 4 tokens.
        int maxTokens = rng.Next(10) == 0 ? rng.Next(100, 200) : rng.Next(1, 40);
        var sampling = new SamplingParams
        {
            MaxTokens = maxTokens,
            MinTokens = rng.Next(4) == 0 ? rng.Next(0, maxTokens + 1) : 0,
            StopTokenIds = rng.Next(3) == 0 ? [rng.Next(0, 50)] : [],
            IgnoreEos = rng.Next(5) == 0,
        };
        return new Request(id, [.. prompt], sampling) { EosTokenId = rng.Next(2) == 0 ? 3 : null };
    }
}
