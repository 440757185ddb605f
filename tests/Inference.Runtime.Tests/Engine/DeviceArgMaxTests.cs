using Inference.Engine;
using Inference.Sampling;

namespace Inference.Tests.Engine;

/// <summary>
/// Greedy steps that take the backend's argmax produce exactly what the full-logits path does: the same engine with
/// the shortcut off, and the same requests asking for logprobs (which need the logits, so take the old path).
/// </summary>
public sealed class DeviceArgMaxTests
{
    private static List<(string, int[], SamplingParams)> GreedyRequests(bool logprobs, string idPrefix = "g")
    {
        var rng = new Random(66);
        var list = new List<(string, int[], SamplingParams)>();
        for (int i = 0; i < 12; i++)
        {
            var p = SamplingParams.Greedy(rng.Next(1, 33));
            // min_tokens keeps EOS out for the first tokens: those steps need the logits, the later ones do not.
            if (i % 4 == 1) p = p with { MinTokens = Math.Min(p.MaxTokens, 3) };
            if (i % 4 == 2) p = p with { IgnoreEos = true, StopTokenIds = [300] };
            if (logprobs) p = p with { Logprobs = 0 };
            list.Add(($"{idPrefix}{i}", Stories.RandomPrompt(rng, rng.Next(1, 60)), p));
        }
        return list;
    }

    private static void AssertSameTokens(Completion[] expected, Completion[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        var byId = actual.ToDictionary(c => c.RequestId[1..]);
        foreach (var e in expected)
        {
            var a = byId[e.RequestId[1..]];
            Assert.Null(e.Final!.Error);
            Assert.Null(a.Final!.Error);
            Assert.True(e.TokenIds.SequenceEqual(a.TokenIds), $"{e.RequestId}: {string.Join(',', e.TokenIds)} vs {string.Join(',', a.TokenIds)}");
            Assert.Equal(e.Text, a.Text);
            Assert.Equal(e.FinishReason, a.FinishReason);
        }
    }

    [Fact]
    public async Task ConcurrentGreedyRequestsEqualTheFullLogitsPath()
    {
        var requests = GreedyRequests(logprobs: false);
        Completion[] shortcut, full;
        using (var e = new TestEngine(new EngineOptions { MaxNumBatchedTokens = 64, MaxNumSeqs = 8 }))
            shortcut = await e.RunConcurrentlyAsync(requests);
        using (var e = new TestEngine(new EngineOptions { MaxNumBatchedTokens = 64, MaxNumSeqs = 8, DeviceArgMax = false }))
            full = await e.RunConcurrentlyAsync(requests);
        AssertSameTokens(full, shortcut);
        Assert.Contains(shortcut, c => c.TokenIds.Count > 1);
    }

    [Fact]
    public async Task GreedyTokensEqualThoseOfGreedyWithLogprobs()
    {
        using var e = new TestEngine(new EngineOptions { MaxNumBatchedTokens = 64, MaxNumSeqs = 8 });
        var plain = await e.RunConcurrentlyAsync(GreedyRequests(logprobs: false));
        // Fresh ids: the engine reports a finished id to the next step, which must not meet a new request of that name.
        var withLogprobs = await e.RunConcurrentlyAsync(GreedyRequests(logprobs: true, idPrefix: "l"));
        AssertSameTokens(withLogprobs, plain);
        // The chosen token of each logprobs entry is the one the shortcut produced.
        foreach (var c in withLogprobs) Assert.Equal(c.TokenIds, c.Logprobs.Select(l => l.TokenId));
    }

    [Fact]
    public async Task ReferenceContinuationsThroughTheShortcut()
    {
        using var e = new TestEngine(new EngineOptions());
        var cases = ReferenceCase.Load(RepoPaths.Stories260K);
        var results = await e.RunConcurrentlyAsync(cases.Select((rc, i) => ($"ref{i}", rc.PromptTokenIds, SamplingParams.Greedy(rc.MaxTokens) with { IgnoreEos = true })).ToList());
        for (int i = 0; i < cases.Count; i++)
            Assert.Equal(cases[i].GeneratedTokenIds, results.Single(c => c.RequestId == $"ref{i}").TokenIds);
    }
}
