using Inference.Engine;
using Inference.Kernels;
using Inference.Sampling;

namespace Inference.Tests.Engine;

/// <summary>The engine with a BF16 KV pool (CPU): the reference's greedy text, and still batch invariant.</summary>
public sealed class KvCacheBf16Tests
{
    private static readonly EngineOptions Bf16 = new() { KvCacheDType = KvCacheDType.BF16 };

    [Fact]
    public async Task GreedyContinuationMatchesReference()
    {
        int[] prompt = [1, 403, 407, 261, 378];
        var reference = ReferenceCase.Load(RepoPaths.Stories260K).Single(c => c.PromptTokenIds.SequenceEqual(prompt));
        int n = Math.Min(60, reference.GeneratedTokenIds.Length);
        using var engine = new TestEngine(Bf16);
        var got = (await engine.RunAsync("once", prompt, SamplingParams.Greedy(n))).Single();
        Assert.Equal(reference.GeneratedTokenIds.Take(n), got.TokenIds);
    }

    [Fact]
    public async Task ConcurrentRequestsEqualEachRunAlone()
    {
        var rng = new Random(17);
        var requests = new List<(string, int[], SamplingParams)>();
        for (int i = 0; i < 12; i++)
            requests.Add(($"r{i}", Stories.RandomPrompt(rng, rng.Next(1, 120)), BatchInvarianceTests.Mixed(i, rng.Next(1, 30))));
        Completion[] alone;
        using (var single = new TestEngine(Bf16 with { MaxNumSeqs = 1 }))
            alone = await single.RunSequentiallyAsync(requests);
        using var batched = new TestEngine(Bf16 with { MaxNumBatchedTokens = 96 });
        var together = await batched.RunConcurrentlyAsync(requests);
        var byKey = together.ToDictionary(c => (c.RequestId, c.Index));
        foreach (var e in alone)
            Same.Completions(e, byKey[(e.RequestId, e.Index)], $"bf16 {e.RequestId}[{e.Index}]");
    }
}
