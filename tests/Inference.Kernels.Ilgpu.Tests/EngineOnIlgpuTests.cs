using System.Threading.Channels;
using Inference.Engine;
using Inference.Kernels;
using Inference.Kernels.Cpu;
using Inference.Kernels.Ilgpu;
using Inference.Models;
using Inference.Sampling;

namespace Inference.Tests.Ilgpu;

/// <summary>The unchanged engine (scheduler, paged KV, sampler) on the ILGPU CPU accelerator gives the CPU backend's tokens.</summary>
public sealed class EngineOnIlgpuTests
{
    private static readonly (int[] Prompt, SamplingParams Params)[] Requests =
    [
        ([1, 403, 407, 261, 378], SamplingParams.Greedy(8)),
        ([1, 317, 269, 368, 302, 267], new SamplingParams { Temperature = 0.8f, TopP = 0.9f, Seed = 7, MaxTokens = 8 }),
        ([1, 403, 407], new SamplingParams { Temperature = 1f, TopK = 20, Seed = 3, MaxTokens = 6, IgnoreEos = true }),
        ([1, 433, 426, 338, 401, 396, 267, 337, 410], SamplingParams.Greedy(5)),
    ];

    private static List<int>[] RunAll(IComputeBackend backend, LoadedModel model) => RunAll(backend, model, Requests, deviceArgMax: true);

    private static List<int>[] RunAll(IComputeBackend backend, LoadedModel model, (int[] Prompt, SamplingParams Params)[] requests, bool deviceArgMax)
    {
        // A small token budget so prompts are chunked and requests share steps; small blocks so the contexts
        // span several of them (and, on ILGPU, several KV partitions).
        var options = new EngineOptions { MaxNumBatchedTokens = 8, MaxNumSeqs = 4, KvCacheMemory = 4L << 20, BlockSize = 4, DeviceArgMax = deviceArgMax };
        using var engine = new LlmEngine(model, backend, options);
        var readers = new ChannelReader<RequestOutput>[requests.Length];
        for (int i = 0; i < requests.Length; i++) readers[i] = engine.AddRequest($"r{i}", requests[i].Prompt, requests[i].Params);
        var tokens = new List<int>[requests.Length];
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        for (int i = 0; i < requests.Length; i++)
        {
            tokens[i] = [];
            foreach (var o in readers[i].ReadAllAsync(timeout.Token).ToBlockingEnumerable(timeout.Token))
            {
                Assert.Null(o.Error);
                tokens[i].AddRange(o.TokenIds);
            }
        }
        return tokens;
    }

    [Fact]
    public void ConcurrentRequestsMatchCpuBackend()
    {
        using var model = LoadedModel.Load(RepoPaths.Stories260K);
        using var cpu = new CpuBackend(2);
        var expected = RunAll(cpu, model);
        using var ilgpu = IlgpuBackend.Create(IlgpuDeviceKind.Cpu);
        // 8-key partitions: decode steps past 8 tokens split their keys across groups and merge.
        ilgpu.AttentionPartitionBlocks = 2;
        var actual = RunAll(ilgpu, model);
        for (int i = 0; i < Requests.Length; i++)
        {
            Assert.Equal(Requests[i].Params.MaxTokens, expected[i].Count);
            Assert.Equal(expected[i], actual[i]);
        }
    }

    /// <summary>Steps where every row is plain greedy run the argmax kernel and give the CPU's full-logits tokens.</summary>
    [Fact]
    public void GreedyStepsTakeTheArgMaxKernel()
    {
        (int[], SamplingParams)[] requests =
        [
            ([1, 403, 407, 261, 378], SamplingParams.Greedy(10)),
            ([1, 433, 426], SamplingParams.Greedy(6) with { MinTokens = 2 }),
        ];
        using var model = LoadedModel.Load(RepoPaths.Stories260K);
        using var cpu = new CpuBackend(2);
        var expected = RunAll(cpu, model, requests, deviceArgMax: false);
        var log = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using var ilgpu = IlgpuBackend.Create(IlgpuDeviceKind.Cpu, log.Enqueue);
        var actual = RunAll(ilgpu, model, requests, deviceArgMax: true);
        Assert.Contains(log, l => l.Contains("compiled argmax", StringComparison.Ordinal));
        for (int i = 0; i < requests.Length; i++)
        {
            Assert.Equal(requests[i].Item2.MaxTokens, expected[i].Count);
            Assert.Equal(expected[i], actual[i]);
        }
    }
}
