using Inference.Execution;
using Inference.Kernels;
using Inference.Kernels.Cpu;
using Inference.Kernels.Ilgpu;
using Inference.Models;
using Inference.Safetensors;

namespace Inference.Tests.Ilgpu;

/// <summary>The whole stories260K model on an ILGPU backend: greedy tokens equal the reference, logits track the CPU backend.</summary>
public abstract class Stories260KTests
{
    private static readonly int[] Prompt = [1, 403, 407, 261, 378];
    private static readonly int[] Expected = [432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401, 396, 267, 337, 410, 408, 419, 292];

    protected abstract IComputeBackend CreateBackend();

    [DeviceFact]
    public void GreedyDecodeMatchesReferenceAndCpuLogits()
    {
        string dir = RepoPaths.Stories260K;
        var config = ModelConfig.Load(dir);
        using var st = SafetensorsModel.Open(dir);
        using var weights = LlamaWeights.Load(config, st);
        using var gpu = CreateBackend();
        using var cpu = new CpuBackend(threads: 1);
        using var gpuRunner = new ModelRunner(new LlamaModel(gpu, weights, maxTokens: 16, maxSeqs: 2), numBlocks: 8, blockSize: 16);
        using var cpuRunner = new ModelRunner(new LlamaModel(cpu, weights, maxTokens: 16, maxSeqs: 2), numBlocks: 8, blockSize: 16);
        // Blocks out of order, so the block table matters.
        int[] blocks = [5, 2, 7, 0];
        var tokens = new List<int>(Prompt);
        var generated = new List<int>();
        int start = 0;
        while (generated.Count < Expected.Length)
        {
            var chunk = tokens.Skip(start).ToArray();
            float[] g = Step(gpuRunner, chunk, start, blocks);
            float[] c = Step(cpuRunner, chunk, start, blocks);
            TestData.AssertClose(g, c, 1e-4, $"logits after {tokens.Count} tokens");
            int next = ArgMax(g);
            Assert.Equal(ArgMax(c), next);
            start = tokens.Count;
            tokens.Add(next);
            generated.Add(next);
        }
        Assert.Equal(Expected, generated);
    }

    private static float[] Step(ModelRunner runner, int[] chunk, int start, int[] blocks)
    {
        runner.BeginBatch();
        runner.AddSequence(chunk, start, blocks, sample: true);
        return runner.Execute().ToArray();
    }

    private static int ArgMax(ReadOnlySpan<float> v)
    {
        int best = 0;
        for (int i = 1; i < v.Length; i++) if (v[i] > v[best]) best = i;
        return best;
    }
}

/// <summary>stories260K on ILGPU's CPU accelerator.</summary>
public sealed class CpuAcceleratorStories260KTests : Stories260KTests
{
    // One-block (16-key) partitions: from the 17th token on, decode steps split their keys and merge.
    protected override IComputeBackend CreateBackend()
    {
        var b = IlgpuBackend.Create(IlgpuDeviceKind.Cpu);
        b.AttentionPartitionBlocks = 1;
        return b;
    }
}

/// <summary>stories260K on the first CUDA GPU (skipped without one).</summary>
[RequiresCuda]
public sealed class CudaStories260KTests : Stories260KTests
{
    protected override IComputeBackend CreateBackend() => IlgpuBackend.Create(IlgpuDeviceKind.Cuda);
}
