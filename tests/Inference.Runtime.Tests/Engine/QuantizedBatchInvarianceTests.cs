using Inference.Engine;
using Inference.Models;

namespace Inference.Tests.Engine;

/// <summary>
/// Batch invariance with int8 / int4 weights, whose matmuls quantize the activations per 32-block: a
/// request's tokens and logprobs are the same alone and among others, chunked or not.
/// </summary>
public sealed class QuantizedBatchInvarianceTests
{
    [Theory]
    [InlineData("int8")]
    [InlineData("int4")]
    [InlineData("int4-zp")]
    public async Task ConcurrentRequestsEqualEachRunAlone(string format)
    {
        using var model = LoadedModel.Load(RepoPaths.Stories260K, weightSource: WeightSources.For(format, 32));
        var rng = new Random(8);
        var requests = new List<(string, int[], Inference.Sampling.SamplingParams)>();
        for (int i = 0; i < 16; i++)
            requests.Add(($"r{i}", Stories.RandomPrompt(rng, i == 0 ? 1 : rng.Next(1, 150)), BatchInvarianceTests.Mixed(i, rng.Next(1, 30))));
        Completion[] alone;
        using (var single = new TestEngine(new EngineOptions { MaxNumSeqs = 1 }, model: model))
            alone = await single.RunSequentiallyAsync(requests);
        // A small token budget: chunked prefills share steps with other requests' decodes.
        using var batched = new TestEngine(new EngineOptions { MaxNumSeqs = 16, MaxNumBatchedTokens = 96 }, model: model);
        var together = await batched.RunConcurrentlyAsync(requests);
        var byKey = together.ToDictionary(c => (c.RequestId, c.Index));
        foreach (var e in alone)
            Same.Completions(e, byKey[(e.RequestId, e.Index)], $"{format} {e.RequestId}[{e.Index}]");
        Assert.Contains(alone, c => c.TokenIds.Count > 1);
        batched.WaitForAllBlocksFree();
    }
}
