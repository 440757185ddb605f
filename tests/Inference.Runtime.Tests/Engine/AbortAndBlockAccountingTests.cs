using Inference.Engine;
using Inference.Sampling;
using Inference.Scheduling;

namespace Inference.Tests.Engine;

/// <summary>
/// Aborts in every state (waiting, prefill, decode; engine.Abort and CancellationToken) end the request with
/// FinishReason.Abort, leave the others untouched, and give every KV block back.
/// </summary>
public sealed class AbortAndBlockAccountingTests
{
    public enum Via { EngineAbort, CancellationToken }

    private static int[] LongPrompt() => Stories.RandomPrompt(new Random(200), 200);

    [Theory]
    [InlineData(Via.EngineAbort)]
    [InlineData(Via.CancellationToken)]
    public async Task AbortDuringPrefill(Via via)
    {
        // An 8-token budget spreads the 200-token prompt over 25 steps; abort after the third.
        using var e = new TestEngine(new EngineOptions { MaxNumBatchedTokens = 8 });
        using var cts = new CancellationTokenSource();
        SchedulerStats? atAbort = null;
        e.Engine.Observer = new StepHook((step, stats) =>
        {
            if (step != 3) return;
            atAbort = stats;
            if (via == Via.EngineAbort) e.Engine.Abort("long");
            else cts.Cancel();
        });
        var c = (await e.RunAsync("long", LongPrompt(), SamplingParams.Greedy(10), cts.Token))[0];

        Assert.NotNull(atAbort);
        Assert.Equal(1, atAbort.Value.NumRunning);
        Assert.True(atAbort.Value.NumFreeBlocks < e.Engine.NumBlocks - 1, "the request should hold blocks mid-prefill");
        Assert.Equal(FinishReason.Abort, c.FinishReason);
        Assert.Empty(c.TokenIds);
        Assert.Equal(0, c.Final!.CompletionTokens);
        Assert.Equal(200, c.Final.PromptTokens);
        e.WaitForAllBlocksFree();
    }

    [Theory]
    [InlineData(Via.EngineAbort)]
    [InlineData(Via.CancellationToken)]
    public async Task AbortDuringDecode(Via via)
    {
        // Step 1 is the prefill (first token), steps 2..10 decode; the abort lands before step 11.
        using var e = new TestEngine(new EngineOptions());
        using var cts = new CancellationTokenSource();
        e.Engine.Observer = new StepHook((step, _) =>
        {
            if (step != 10) return;
            if (via == Via.EngineAbort) e.Engine.Abort("decode");
            else cts.Cancel();
        });
        int[] prompt = Stories.Model.Tokenizer.Encode("Once upon a time");
        var c = (await e.RunAsync("decode", prompt, SamplingParams.Greedy(400) with { IgnoreEos = true }, cts.Token))[0];

        Assert.Equal(FinishReason.Abort, c.FinishReason);
        Assert.Equal(10, c.TokenIds.Count);
        Assert.Equal(c.TokenIds.Count, c.Final!.CompletionTokens);
        e.WaitForAllBlocksFree();
    }

    [Fact]
    public async Task AbortWhileWaitingAndWithAnAlreadyCancelledToken()
    {
        using var e = new TestEngine(new EngineOptions { MaxNumSeqs = 1 });
        int[] prompt = Stories.Model.Tokenizer.Encode("Lily and Ben");
        var first = e.RunAsync("first", prompt, SamplingParams.Greedy(100) with { IgnoreEos = true });
        var waiting = e.RunAsync("waiting", prompt, SamplingParams.Greedy(100));
        e.Engine.Abort("waiting");
        var cancelled = e.RunAsync("cancelled", prompt, SamplingParams.Greedy(100), new CancellationToken(canceled: true));

        var w = (await waiting)[0];
        Assert.Equal(FinishReason.Abort, w.FinishReason);
        Assert.Empty(w.TokenIds);
        var x = (await cancelled)[0];
        Assert.Equal(FinishReason.Abort, x.FinishReason);
        Assert.Empty(x.TokenIds);
        var f = (await first)[0];
        Assert.Equal(FinishReason.Length, f.FinishReason);
        Assert.Equal(100, f.TokenIds.Count);
        e.WaitForAllBlocksFree();
    }

    [Fact]
    public async Task AbortingOneSampleGroupAbortsEverySample()
    {
        using var e = new TestEngine(new EngineOptions());
        int[] prompt = Stories.Model.Tokenizer.Encode("Once upon a time, there was a little girl named Lily.");
        e.Engine.Observer = new StepHook((step, _) => { if (step == 5) e.Engine.Abort("group"); });
        var group = await e.RunAsync("group", prompt, new SamplingParams { N = 3, Seed = 9, MaxTokens = 400, IgnoreEos = true });
        Assert.Equal(3, group.Length);
        Assert.All(group, c => Assert.Equal(FinishReason.Abort, c.FinishReason));
        e.WaitForAllBlocksFree();
    }

    /// <summary>
    /// Many requests, a tight pool (preemption) and prefix caching, with a third of them aborted at chosen steps
    /// in every state: the rest are bit-identical to running alone, and every block ends up free.
    /// </summary>
    [Fact]
    public async Task AbortsUnderPressureLeaveOthersIntactAndFreeEveryBlock()
    {
        var rng = new Random(77);
        var tok = Stories.Model.Tokenizer;
        int[] shared = tok.Encode("Once upon a time, there was a little girl named Lily. She loved to play outside in the park.");
        var requests = new List<(string Id, int[] Prompt, SamplingParams P)>();
        for (int i = 0; i < 18; i++)
        {
            int[] prompt = i % 3 == 0 ? shared : Stories.RandomPrompt(rng, rng.Next(5, 90));
            requests.Add(($"q{i}", prompt, BatchInvarianceTests.Mixed(i, rng.Next(5, 50))));
        }
        var abortAt = new Dictionary<int, string>();
        for (int i = 1; i < requests.Count; i += 3) abortAt[2 + 3 * i] = requests[i].Id;
        var cancels = requests.ToDictionary(r => r.Id, _ => new CancellationTokenSource());

        const int blockSize = 4;
        var options = new EngineOptions { BlockSize = blockSize, MaxNumBatchedTokens = 48, KvCacheMemory = Stories.KvBytesForBlocks(40, blockSize) };
        Completion[] alone;
        using (var e = new TestEngine(options with { KvCacheMemory = null, MaxNumSeqs = 1 }))
            alone = await e.RunSequentiallyAsync(requests);

        using var busy = new TestEngine(options);
        busy.Engine.Observer = new StepHook((step, _) =>
        {
            if (!abortAt.TryGetValue(step, out var id)) return;
            if (step % 2 == 0) busy.Engine.Abort(id);
            else cancels[id].Cancel();
        });
        var tasks = requests.Select(r => Completion.CollectAsync(busy.Add(r.Id, r.Prompt, r.P, cancels[r.Id].Token), r.Prompt, 1)).ToArray();
        var results = (await Task.WhenAll(tasks).WaitAsync(Stories.Timeout)).Select(x => x[0]).ToArray();
        var stats = busy.WaitForAllBlocksFree();

        Assert.True(stats.Scheduler.NumPreemptionsTotal > 0, "the pool was sized to force preemption");
        int aborted = 0;
        for (int i = 0; i < requests.Count; i++)
        {
            if (results[i].FinishReason == FinishReason.Abort)
            {
                aborted++;
                Assert.Contains(requests[i].Id, abortAt.Values);
                // What it produced before the abort is a prefix of its solo run.
                Assert.Equal(alone[i].TokenIds.Take(results[i].TokenIds.Count), results[i].TokenIds);
            }
            else Same.Completions(alone[i], results[i], requests[i].Id);
        }
        Assert.True(aborted >= 3, $"only {aborted} requests were aborted before finishing");
        foreach (var c in cancels.Values) c.Dispose();
    }
}
