using System.Numerics.Tensors;
using Inference.Execution;
using Inference.Kernels.Cpu;
using Inference.Models;
using Inference.Safetensors;
using Inference.Sampling;

namespace Inference.Tests.Execution;

/// <summary>The backend-argmax shortcut of greedy decoding: when it applies and that it picks the sampler's token.</summary>
public sealed class GreedyArgMaxTests
{
    [Fact]
    public void PlainGreedyOnlyWhenTheSamplerWouldTakeTheRawArgmax()
    {
        var g = SamplingParams.Greedy(8);
        Assert.True(Sampler.IsPlainGreedy(g, 0));
        Assert.True(Sampler.IsPlainGreedy(g with { LogitBias = new Dictionary<int, float>() }, 0));
        Assert.True(Sampler.IsPlainGreedy(g with { MinTokens = 2 }, 2));
        Assert.True(Sampler.IsPlainGreedy(g with { TopK = 5, TopP = 0.5f, MinP = 0.2f, Seed = 3 }, 0));
        Assert.False(Sampler.IsPlainGreedy(new SamplingParams { Temperature = 0.5f }, 0));
        Assert.False(Sampler.IsPlainGreedy(g with { Logprobs = 0 }, 0));
        Assert.False(Sampler.IsPlainGreedy(g with { LogitBias = new Dictionary<int, float> { [3] = 1f } }, 0));
        Assert.False(Sampler.IsPlainGreedy(g with { RepetitionPenalty = 1.1f }, 0));
        Assert.False(Sampler.IsPlainGreedy(g with { FrequencyPenalty = 0.1f }, 0));
        Assert.False(Sampler.IsPlainGreedy(g with { PresencePenalty = -0.1f }, 0));
        Assert.False(Sampler.IsPlainGreedy(g with { MinTokens = 2 }, 1));
    }

    /// <summary>Where IsPlainGreedy holds, Sample returns IndexOfMax of the raw row, ties and -inf included.</summary>
    [Fact]
    public void PlainGreedySampleIsIndexOfMax()
    {
        float[][] rows =
        [
            [1f, 3f, 2f, 3f],
            [float.NegativeInfinity, float.NegativeInfinity, float.NegativeInfinity],
            [-0f, 0f, -1f],
            [0.5f, float.NaN, 7f, float.NaN],
        ];
        var sampler = new Sampler();
        foreach (var row in rows)
            Assert.Equal(TensorPrimitives.IndexOfMax<float>(row), sampler.Sample(row, SamplingParams.Greedy(1), [], [], new SeededRandom(1), out _));
    }

    /// <summary>ExecuteArgMax hands back, per sampling row, IndexOfMax of the logits Execute reads back for the same step.</summary>
    [Fact]
    public void ExecuteArgMaxEqualsArgmaxOfExecutedLogits()
    {
        string dir = RepoPaths.Stories260K;
        using var st = SafetensorsModel.Open(dir);
        using var weights = LlamaWeights.Load(ModelConfig.Load(dir), st);
        using var backend = new CpuBackend(2);
        using var runner = new ModelRunner(new LlamaModel(backend, weights, maxTokens: 32, maxSeqs: 4), numBlocks: 16, blockSize: 4);
        int[][] prompts = [[1, 403, 407, 261, 378], [1, 317], [1, 433, 426, 338, 401, 396, 267]];
        int[][] tables = [[1, 2], [3], [4, 5]];
        runner.BeginBatch();
        for (int i = 0; i < prompts.Length; i++) runner.AddSequence(prompts[i], 0, tables[i], sample: i != 1);
        // A row in the middle that does not sample: the argmax rows follow the sampling order, not the batch order.
        runner.AddSequence([1, 259, 300], 0, [6], sample: true);
        var greedy = runner.ExecuteArgMax().ToArray();
        var logits = runner.Execute().ToArray();
        int v = runner.VocabSize;
        Assert.Equal(3, greedy.Length);
        for (int r = 0; r < greedy.Length; r++)
            Assert.Equal(TensorPrimitives.IndexOfMax<float>(logits.AsSpan(r * v, v)), greedy[r]);
    }
}
