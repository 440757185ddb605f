using Inference.Engine;
using Inference.Kernels;
using Inference.Sampling;

namespace Inference.Tests.Engine;

/// <summary>The engine with a 16-bit KV pool (F16, or BF16 on the CPU): the reference's greedy text, and still batch invariant.</summary>
public sealed class KvCacheDTypeTests
{
    private static EngineOptions With(KvCacheDType dtype) => new() { KvCacheDType = dtype };

    [Theory]
    [InlineData(KvCacheDType.F16)]
    [InlineData(KvCacheDType.BF16)]
    public async Task GreedyContinuationMatchesReference(KvCacheDType dtype)
    {
        int[] prompt = [1, 403, 407, 261, 378];
        var reference = ReferenceCase.Load(RepoPaths.Stories260K).Single(c => c.PromptTokenIds.SequenceEqual(prompt));
        int n = Math.Min(60, reference.GeneratedTokenIds.Length);
        using var engine = new TestEngine(With(dtype));
        var got = (await engine.RunAsync("once", prompt, SamplingParams.Greedy(n))).Single();
        Assert.Equal(reference.GeneratedTokenIds.Take(n), got.TokenIds);
    }

    [Theory]
    [InlineData(KvCacheDType.F16, 16)]
    [InlineData(KvCacheDType.BF16, 17)]
    public async Task ConcurrentRequestsEqualEachRunAlone(KvCacheDType dtype, int seed)
    {
        var rng = new Random(seed);
        var requests = new List<(string, int[], SamplingParams)>();
        for (int i = 0; i < 12; i++)
            requests.Add(($"r{i}", Stories.RandomPrompt(rng, rng.Next(1, 120)), BatchInvarianceTests.Mixed(i, rng.Next(1, 30))));
        Completion[] alone;
        using (var single = new TestEngine(With(dtype) with { MaxNumSeqs = 1 }))
            alone = await single.RunSequentiallyAsync(requests);
        using var batched = new TestEngine(With(dtype) with { MaxNumBatchedTokens = 96 });
        var together = await batched.RunConcurrentlyAsync(requests);
        var byKey = together.ToDictionary(c => (c.RequestId, c.Index));
        foreach (var e in alone)
            Same.Completions(e, byKey[(e.RequestId, e.Index)], $"{dtype} {e.RequestId}[{e.Index}]");
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
