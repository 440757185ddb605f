using Inference.Engine;
using Inference.Sampling;

namespace Inference.Tests.Engine;

/// <summary>
/// What a request produces must not depend on what else the engine is doing: other requests in the batch,
/// how its prompt is chunked, whether it was preempted and recomputed, whether its prefix came from the cache.
/// Compared bit for bit (tokens, text, logprobs), for greedy and seeded sampling.
/// </summary>
public sealed class BatchInvarianceTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private static readonly string OnceUponATime = "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. "
        + "One day, she saw a big, red ball. She wanted to play with it, but it was too high. Lily asked her mom";

    /// <summary>Sampling settings covering every sampler path; seeds differ per request.</summary>
    internal static SamplingParams Mixed(int i, int maxTokens)
    {
        ulong seed = 1000 + (ulong)i;
        return (i % 8) switch
        {
            0 => SamplingParams.Greedy(maxTokens),
            1 => SamplingParams.Greedy(maxTokens) with { Logprobs = 5 },
            2 => new SamplingParams { Temperature = 0.8f, Seed = seed, MaxTokens = maxTokens },
            3 => new SamplingParams { Temperature = 1.0f, TopP = 0.9f, Seed = seed, MaxTokens = maxTokens, Logprobs = 5 },
            4 => new SamplingParams { Temperature = 0.7f, TopK = 20, Seed = seed, MaxTokens = maxTokens },
            5 => new SamplingParams { Temperature = 1.2f, MinP = 0.1f, Seed = seed, MaxTokens = maxTokens, Logprobs = 5 },
            6 => new SamplingParams { Temperature = 0.9f, RepetitionPenalty = 1.3f, PresencePenalty = 0.5f, FrequencyPenalty = 0.4f, Seed = seed, MaxTokens = maxTokens, Logprobs = 5 },
            _ => SamplingParams.Greedy(maxTokens) with { RepetitionPenalty = 1.2f, FrequencyPenalty = 0.3f, Logprobs = 0 },
        };
    }

    private static void AssertAllSame(Completion[] expected, Completion[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        var byKey = actual.ToDictionary(c => (c.RequestId, c.Index));
        foreach (var e in expected)
            Same.Completions(e, byKey[(e.RequestId, e.Index)], $"{what}: {e.RequestId}[{e.Index}]");
    }

    [Fact]
    public async Task SixtyFourConcurrentRequestsEqualEachRunAlone()
    {
        var rng = new Random(260);
        var requests = new List<(string, int[], SamplingParams)>();
        for (int i = 0; i < 64; i++)
        {
            int promptLen = i == 0 ? 1 : i == 1 ? 200 : rng.Next(1, 201);
            requests.Add(($"r{i}", Stories.RandomPrompt(rng, promptLen), Mixed(i, rng.Next(1, 41))));
        }

        var sw = System.Diagnostics.Stopwatch.StartNew();
        Completion[] alone;
        using (var single = new TestEngine(new EngineOptions { MaxNumSeqs = 1 }))
        {
            alone = await single.RunSequentiallyAsync(requests);
            output.WriteLine($"alone: {sw.Elapsed.TotalSeconds:F2} s, {single.Engine.GetStats().StepsTotal} steps");
        }
        sw.Restart();

        // A 512-token budget over ~6400 prompt tokens: chunked prefills share steps with other requests' decodes.
        using var batched = new TestEngine(new EngineOptions { MaxNumSeqs = 64, MaxNumBatchedTokens = 512 });
        var together = await batched.RunConcurrentlyAsync(requests);
        output.WriteLine($"batched: {sw.Elapsed.TotalSeconds:F2} s, {batched.Engine.GetStats().StepsTotal} steps");

        AssertAllSame(alone, together, "64 concurrent vs alone");
        Assert.Contains(alone, c => c.Logprobs.Count > 0);
        Assert.Contains(alone, c => c.TokenIds.Count > 1);
        var tok = Stories.Model.Tokenizer;
        foreach (var c in together)
            StreamingTests.AssertDeltasMatchDecode(tok, c);
        batched.WaitForAllBlocksFree();
    }

    [Theory]
    [InlineData(7)]
    [InlineData(32)]
    public async Task ChunkedPrefillEqualsUnchunked(int budget)
    {
        var tok = Stories.Model.Tokenizer;
        var rng = new Random(budget);
        var requests = new List<(string, int[], SamplingParams)>
        {
            ("text-greedy", tok.Encode(OnceUponATime), SamplingParams.Greedy(30) with { Logprobs = 5 }),
            ("text-seeded", tok.Encode(OnceUponATime), new SamplingParams { Temperature = 0.9f, TopP = 0.95f, Seed = 7, MaxTokens = 30, Logprobs = 5 }),
            ("random-greedy", Stories.RandomPrompt(rng, 150), SamplingParams.Greedy(20) with { Logprobs = 3 }),
            ("random-seeded", Stories.RandomPrompt(rng, 97), new SamplingParams { Temperature = 1f, TopK = 40, Seed = 8, MaxTokens = 20 }),
        };
        Assert.True(requests.All(r => r.Item2.Length > budget), "every prompt must be longer than the token budget");

        Completion[] unchunked, chunked;
        using (var e = new TestEngine(new EngineOptions { MaxNumBatchedTokens = 2048 }))
            unchunked = await e.RunSequentiallyAsync(requests);
        using (var e = new TestEngine(new EngineOptions { MaxNumBatchedTokens = budget, MaxNumSeqs = 4 }))
        {
            chunked = await e.RunConcurrentlyAsync(requests);
            e.WaitForAllBlocksFree();
        }
        AssertAllSame(unchunked, chunked, $"chunked at {budget}");
    }

    [Fact]
    public async Task PreemptedEqualsNotPreempted()
    {
        var tok = Stories.Model.Tokenizer;
        var rng = new Random(5);
        var requests = new List<(string, int[], SamplingParams)>();
        for (int i = 0; i < 6; i++)
        {
            int[] prompt = i % 2 == 0 ? tok.Encode(OnceUponATime[..(20 + 15 * i)]) : Stories.RandomPrompt(rng, 10 + 7 * i);
            requests.Add(($"p{i}", prompt, Mixed(i + 1, 40)));
        }
        const int blockSize = 4;
        // Each request needs up to (prompt + 40) / 4 blocks; 24 blocks cannot hold six at once, so decodes must preempt.
        int needMax = requests.Max(r => (r.Item2.Length + 40 + blockSize - 1) / blockSize);
        var tight = new EngineOptions { BlockSize = blockSize, KvCacheMemory = Stories.KvBytesForBlocks(Math.Max(24, needMax + 1), blockSize) };
        var ample = tight with { KvCacheMemory = null };

        Completion[] expected, actual;
        using (var e = new TestEngine(ample))
        {
            expected = await e.RunConcurrentlyAsync(requests);
            Assert.Equal(0, e.Engine.GetStats().Scheduler.NumPreemptionsTotal);
        }
        using (var e = new TestEngine(tight))
        {
            actual = await e.RunConcurrentlyAsync(requests);
            var stats = e.WaitForAllBlocksFree();
            Assert.True(stats.Scheduler.NumPreemptionsTotal > 0, "the tight pool was meant to force preemption");
        }
        AssertAllSame(expected, actual, "preempted vs not");
    }

    [Fact]
    public async Task PrefixCacheHitEqualsMiss()
    {
        var tok = Stories.Model.Tokenizer;
        int[] prompt = tok.Encode(OnceUponATime);
        Assert.True(prompt.Length > 2 * 16, "the prompt must cover full blocks to be cached");
        var p = new SamplingParams { Temperature = 0.8f, TopP = 0.9f, Seed = 42, MaxTokens = 24, Logprobs = 5 };
        var g = SamplingParams.Greedy(24) with { Logprobs = 5 };

        Completion[] miss;
        using (var e = new TestEngine(new EngineOptions { EnablePrefixCaching = false }))
            miss = await e.RunSequentiallyAsync([("a", prompt, p), ("b", prompt, g)]);

        using var cached = new TestEngine(new EngineOptions());
        var first = await cached.RunSequentiallyAsync([("a", prompt, p), ("b", prompt, g)]);
        var second = await cached.RunSequentiallyAsync([("a2", prompt, p), ("b2", prompt, g)]);
        var stats = cached.WaitForAllBlocksFree();
        Assert.True(stats.Scheduler.PrefixCacheHits > 0, "the second run should hit the prefix cache");
        Assert.Equal(0, first[0].Final!.CachedPromptTokens);
        Assert.True(second[0].Final!.CachedPromptTokens >= 32, $"cached prompt tokens {second[0].Final!.CachedPromptTokens}");

        for (int i = 0; i < 2; i++)
        {
            Same.Completions(miss[i], first[i], $"first run, request {i}");
            Same.Completions(miss[i], second[i], $"prefix-cache hit, request {i}");
        }
    }

    [Fact]
    public async Task NSamplesEqualSeededSingles()
    {
        var tok = Stories.Model.Tokenizer;
        int[] prompt = tok.Encode(OnceUponATime[..60]);
        var p = new SamplingParams { Temperature = 1.0f, TopK = 50, Seed = 1234, MaxTokens = 25, Logprobs = 5, N = 4 };

        using var e = new TestEngine(new EngineOptions());
        var group = await e.RunAsync("group", prompt, p);
        Assert.Equal([0, 1, 2, 3], group.Select(c => c.Index));
        Assert.All(group, c => Assert.Equal("group", c.RequestId));

        var singles = new List<Completion>();
        for (int i = 0; i < 4; i++)
            singles.AddRange(await e.RunAsync($"single{i}", prompt, p with { N = 1, Seed = 1234 + (ulong)i }));
        for (int i = 0; i < 4; i++)
            Same.Completions(singles[i], group[i], $"n=4 sample {i} vs seed {1234 + i}");
        // Different seeds should give different samples, or the test above proves little.
        Assert.True(group.Select(c => string.Join(',', c.TokenIds)).Distinct().Count() > 1, "all four samples are identical");
        e.WaitForAllBlocksFree();
    }
}
