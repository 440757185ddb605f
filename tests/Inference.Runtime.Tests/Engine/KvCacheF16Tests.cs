using Inference.Engine;
using Inference.Kernels;
using Inference.Sampling;

namespace Inference.Tests.Engine;

/// <summary>The engine with an F16 KV pool: same greedy text as the F32 reference, and still batch invariant.</summary>
public sealed class KvCacheF16Tests
{
    private static readonly EngineOptions F16 = new() { KvCacheDType = KvCacheDType.F16 };

    [Fact]
    public async Task GreedyContinuationMatchesReference()
    {
        int[] prompt = [1, 403, 407, 261, 378];
        var reference = ReferenceCase.Load(RepoPaths.Stories260K).Single(c => c.PromptTokenIds.SequenceEqual(prompt));
        int n = Math.Min(60, reference.GeneratedTokenIds.Length);
        using var engine = new TestEngine(F16);
        var got = (await engine.RunAsync("once", prompt, SamplingParams.Greedy(n))).Single();
        Assert.Equal(reference.GeneratedTokenIds.Take(n), got.TokenIds);
    }

    [Fact]
    public async Task ConcurrentRequestsEqualEachRunAlone()
    {
        var rng = new Random(16);
        var requests = new List<(string, int[], SamplingParams)>();
        for (int i = 0; i < 12; i++)
            requests.Add(($"r{i}", Stories.RandomPrompt(rng, rng.Next(1, 120)), BatchInvarianceTests.Mixed(i, rng.Next(1, 30))));
        Completion[] alone;
        using (var single = new TestEngine(F16 with { MaxNumSeqs = 1 }))
            alone = await single.RunSequentiallyAsync(requests);
        using var batched = new TestEngine(F16 with { MaxNumBatchedTokens = 96 });
        var together = await batched.RunConcurrentlyAsync(requests);
        var byKey = together.ToDictionary(c => (c.RequestId, c.Index));
        foreach (var e in alone)
            Same.Completions(e, byKey[(e.RequestId, e.Index)], $"f16 {e.RequestId}[{e.Index}]");
    }

    [Theory]
    [InlineData("auto", null)]
    [InlineData("F16", KvCacheDType.F16)]
    [InlineData("f32", KvCacheDType.F32)]
    [InlineData("bf16", KvCacheDType.BF16)]
    [InlineData("bfloat16", KvCacheDType.BF16)]
    public void ParsesKvCacheDType(string value, KvCacheDType? expected) =>
        Assert.Equal(expected, EngineOptions.ParseKvCacheDType(value));

    [Fact]
    public void RejectsUnknownKvCacheDType()
    {
        var e = Assert.Throws<InferenceException>(() => EngineOptions.ParseKvCacheDType("fp8"));
        Assert.Contains("--kv-cache-dtype", e.Message);
    }
}
