using Inference.Execution;
using Inference.Sampling;

namespace Inference.Tests.Execution;

public sealed class SamplerTests
{
    private static readonly float[] Logits = [1.0f, 3.0f, 2.0f, 0.5f, 2.9f, -1f];

    private static int Sample(float[] logits, SamplingParams p, ulong seed, int[]? prompt = null, int[]? output = null) =>
        new Sampler().Sample(logits, p, prompt ?? [], output ?? [], new SeededRandom(seed), out _);

    private static HashSet<int> Support(float[] logits, SamplingParams p)
    {
        var seen = new HashSet<int>();
        for (ulong s = 0; s < 2000; s++) seen.Add(Sample(logits, p, s));
        return seen;
    }

    [Fact]
    public void GreedyIsArgmax() => Assert.Equal(1, Sample(Logits, SamplingParams.Greedy(1), 0));

    [Fact]
    public void TopKLimitsSupport() =>
        Assert.Equal(new HashSet<int> { 1, 4 }, Support(Logits, new SamplingParams { Temperature = 1f, TopK = 2 }));

    [Fact]
    public void TopPKeepsSmallestSetReachingMass()
    {
        // softmax: p1 ~ 0.36, p4 ~ 0.33, p2 ~ 0.13 ... top_p 0.6 needs tokens 1 and 4.
        Assert.Equal(new HashSet<int> { 1, 4 }, Support(Logits, new SamplingParams { Temperature = 1f, TopP = 0.6f }));
    }

    [Fact]
    public void MinPDropsUnlikelyTokens()
    {
        // min_p 0.5: keep tokens with p >= 0.5 * p_max; p2/p1 = e^-1 ~ 0.37 is dropped, p4/p1 = e^-0.1 kept.
        Assert.Equal(new HashSet<int> { 1, 4 }, Support(Logits, new SamplingParams { Temperature = 1f, MinP = 0.5f }));
    }

    [Fact]
    public void FullSamplingCoversEveryTokenWithRoughlyRightFrequency()
    {
        var p = new SamplingParams { Temperature = 1f };
        var counts = new int[Logits.Length];
        const int n = 20000;
        for (ulong s = 0; s < n; s++) counts[Sample(Logits, p, s)]++;
        double z = Logits.Sum(l => Math.Exp(l));
        for (int i = 0; i < Logits.Length; i++)
            Assert.InRange(counts[i] / (double)n, Math.Exp(Logits[i]) / z - 0.02, Math.Exp(Logits[i]) / z + 0.02);
    }

    [Fact]
    public void SameSeedSameTokens()
    {
        var p = new SamplingParams { Temperature = 0.8f, TopP = 0.95f };
        var a = new SeededRandom(42);
        var b = new SeededRandom(42);
        var s = new Sampler();
        for (int i = 0; i < 50; i++)
            Assert.Equal(s.Sample(Logits, p, [], [], a, out _), s.Sample(Logits, p, [], [], b, out _));
    }

    /// <summary>The benchmarks' random prompts: one draw per id, past the special ids, the same for the same seed.</summary>
    [Fact]
    public void TokenIdsAreOneDrawEachInsideTheVocabulary()
    {
        var ids = new SeededRandom(1234).NextTokenIds(500, 10);
        var rng = new SeededRandom(1234);
        foreach (int id in ids)
        {
            Assert.InRange(id, 3, 9);
            Assert.Equal(3 + (int)(rng.NextUInt64() % 7), id);
        }
        Assert.Equal(7, ids.Distinct().Count());
    }

    [Fact]
    public void RepetitionPenaltyDividesPositiveAndMultipliesNegativeLogits()
    {
        // Token 1 (3.0) / 2 = 1.5 falls below token 4 (2.9); greedy moves to 4.
        Assert.Equal(4, Sample(Logits, new SamplingParams { Temperature = 0f, RepetitionPenalty = 2f }, 0, prompt: [1]));
        // A negative logit is pushed further down: token 5 at -1 * 2 stays last.
        float[] allNeg = [-3f, -1f, -2f];
        Assert.Equal(2, Sample(allNeg, new SamplingParams { Temperature = 0f, RepetitionPenalty = 3f }, 0, output: [1]));
    }

    [Fact]
    public void PresenceAndFrequencyPenaltiesUseOutputCounts()
    {
        // Token 1 generated twice: 3.0 - (2 * 0.1 + 0.05) = 2.75 < 2.9.
        Assert.Equal(4, Sample(Logits, new SamplingParams { Temperature = 0f, FrequencyPenalty = 0.1f, PresencePenalty = 0.05f }, 0, output: [1, 1]));
        // Prompt tokens do not count for presence / frequency penalties.
        Assert.Equal(1, Sample(Logits, new SamplingParams { Temperature = 0f, FrequencyPenalty = 2f }, 0, prompt: [1, 1, 1]));
    }

    [Fact]
    public void LogitBiasShiftsChoice() =>
        Assert.Equal(5, Sample(Logits, new SamplingParams { Temperature = 0f, LogitBias = new Dictionary<int, float> { [5] = 10f } }, 0));

    [Fact]
    public void LogprobsAreRawLogSoftmaxWithRankAndTopN()
    {
        var s = new Sampler();
        s.Sample(Logits, new SamplingParams { Temperature = 0f, Logprobs = 3 }, [], [], new SeededRandom(0), out var lp);
        Assert.NotNull(lp);
        double logZ = Math.Log(Logits.Sum(l => Math.Exp(l)));
        Assert.Equal(1, lp!.TokenId);
        Assert.Equal(1, lp.Rank);
        Assert.Equal(3.0 - logZ, lp.Logprob, 4);
        Assert.Equal([1, 4, 2], lp.Top.Select(t => t.TokenId));
        Assert.Equal(2.9 - logZ, lp.Top[1].Logprob, 4);
    }

    [Theory]
    [InlineData(-0.5f, 1f, 0, "temperature")]
    [InlineData(1f, 0f, 0, "top_p")]
    [InlineData(1f, 1f, -2, "top_k")]
    public void ValidationNamesTheBadValue(float temperature, float topP, int topK, string name)
    {
        var e = Assert.Throws<InferenceException>(() => new SamplingParams { Temperature = temperature, TopP = topP, TopK = topK }.Validate());
        Assert.Contains(name, e.Message);
    }
}
