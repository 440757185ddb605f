using Inference.Execution;
using Inference.Kernels.Cpu;
using Inference.Models;
using Inference.Safetensors;

namespace Inference.Tests.Models;

public sealed class ForwardPassTests
{
    /// <summary>Greedy decoding with the paged CPU backend: a prefill of the prompt, then one token per step.</summary>
    internal static int[] GreedyTokens(ModelRunner runner, int[] prompt, int maxTokens)
    {
        int bs = runner.BlockSize;
        var table = Enumerable.Range(1, (prompt.Length + maxTokens + bs - 1) / bs).Reverse().ToList();
        var tokens = prompt.ToList();
        var output = new List<int>();
        int computed = 0;
        while (output.Count < maxTokens)
        {
            runner.BeginBatch();
            runner.AddSequence(tokens.ToArray().AsSpan(computed), computed, table, sample: true);
            var logits = runner.Execute();
            computed = tokens.Count;
            int next = System.Numerics.Tensors.TensorPrimitives.IndexOfMax(logits);
            output.Add(next);
            tokens.Add(next);
        }
        return output.ToArray();
    }

    [Theory]
    [MemberData(nameof(ReferenceCase.Indices), MemberType = typeof(ReferenceCase))]
    public void GreedyTokensMatchReference(string modelName, int index)
    {
        string dir = RepoPaths.Model(modelName);
        var rc = ReferenceCase.Load(dir)[index];
        using var st = SafetensorsModel.Open(dir);
        var config = ModelConfig.Load(dir);
        using var weights = LlamaWeights.Load(config, st);
        using var backend = new CpuBackend(2);
        using var runner = new ModelRunner(new LlamaModel(backend, weights, 256, 4), numBlocks: 64, blockSize: 16);
        Assert.Equal(rc.GeneratedTokenIds, GreedyTokens(runner, rc.PromptTokenIds, rc.MaxTokens));
    }

    [Fact]
    public void PagedLogitsMatchScalarReference()
    {
        string dir = RepoPaths.Stories260K;
        var rc = ReferenceCase.Load(dir)[0];
        using var st = SafetensorsModel.Open(dir);
        var config = ModelConfig.Load(dir);
        using var weights = LlamaWeights.Load(config, st);
        var tokens = rc.PromptTokenIds.Concat(rc.GeneratedTokenIds.Take(20)).ToArray();
        var expected = ReferenceLlama.Forward(weights, tokens);
        using var backend = new CpuBackend(2);
        using var runner = new ModelRunner(new LlamaModel(backend, weights, 256, 4), numBlocks: 16, blockSize: 4);
        var table = new[] { 9, 3, 7, 1, 12, 5, 2, 8 };
        // Prefill in two chunks; sample the last row of each chunk and compare with the reference rows.
        runner.BeginBatch();
        runner.AddSequence(tokens.AsSpan(0, 11), 0, table, sample: true);
        var first = runner.Execute().ToArray();
        runner.BeginBatch();
        runner.AddSequence(tokens.AsSpan(11), 11, table, sample: true);
        var second = runner.Execute().ToArray();
        int v = config.VocabSize;
        TestData.AssertClose(first, expected.AsSpan(10 * v, v), 1e-4, "logits after chunk 1");
        TestData.AssertClose(second, expected.AsSpan((tokens.Length - 1) * v, v), 1e-4, "logits after chunk 2");
    }
}
