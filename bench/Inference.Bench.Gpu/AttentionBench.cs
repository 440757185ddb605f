using System.Diagnostics;
using System.Text.Json.Nodes;
using ILGPU.Runtime;
using Inference.Kernels;
using Inference.Kernels.Ilgpu;
using Inference.Kernels.Ilgpu.Kernels;
using Inference.Tests.Ilgpu;

namespace Inference.Bench.Gpu;

/// <summary>Times paged attention on decode and prefill shapes; the same shapes go to the PyTorch SDPA script.</summary>
public static class AttentionBench
{
    public sealed record Case(string Name, int Batch, int QueryLen, int Context, int Heads, int KvHeads, int HeadDim, int BlockSize);

    public static IReadOnlyList<Case> Cases(bool dryRun) => dryRun
        ? [new("decode", 2, 1, 40, 4, 2, 64, 16), new("decode_long", 1, 1, 100, 4, 2, 64, 16), new("prefill", 1, 24, 24, 4, 2, 64, 16)]
        : [new("decode_b1_ctx4096", 1, 1, 4096, 32, 8, 64, 16), new("decode_b1_ctx16384", 1, 1, 16384, 32, 8, 64, 16),
           new("decode_b8_ctx8192", 8, 1, 8192, 32, 8, 64, 16), new("decode_b32_ctx1024", 32, 1, 1024, 32, 8, 64, 16),
           new("prefill_1x1024", 1, 1024, 1024, 32, 8, 64, 16), new("prefill_4x512", 4, 512, 512, 32, 8, 64, 16)];

    public static JsonArray Run(IlgpuBackend gpu, bool dryRun, Action<string> log)
    {
        int oldBlocks = gpu.AttentionPartitionBlocks;
        // The dry run's contexts are short: 2-block partitions make its long decode split all the same.
        if (dryRun) gpu.AttentionPartitionBlocks = 2;
        try { return RunCases(gpu, dryRun, log); }
        finally { gpu.AttentionPartitionBlocks = oldBlocks; }
    }

    private static JsonArray RunCases(IlgpuBackend gpu, bool dryRun, Action<string> log)
    {
        var results = new JsonArray();
        foreach (var c in Cases(dryRun))
        {
            var starts = Enumerable.Repeat(c.Context - c.QueryLen, c.Batch).ToArray();
            var counts = Enumerable.Repeat(c.QueryLen, c.Batch).ToArray();
            int blocksPerSeq = (c.Context + c.BlockSize - 1) / c.BlockSize;
            var kv = new KvCacheShape(1, c.Batch * blocksPerSeq, c.BlockSize, c.KvHeads, c.HeadDim);
            var m = AttentionStep.Build(kv, starts, counts, seed: 1);
            var shape = new AttentionShape(c.Heads, c.KvHeads, c.HeadDim, 1f / MathF.Sqrt(c.HeadDim));
            using var cache = (IlgpuKvCache)gpu.AllocateKvCache(kv);
            using var q = (IlgpuActivation)gpu.Allocate(m.NumTokens, shape.QDim);
            using var o = gpu.Allocate(m.NumTokens, shape.QDim);
            var qs = TestWeights.RandomValues(m.NumTokens * shape.QDim, 2);
            q.Buffer.View.SubView(0, qs.Length).CopyFromCPU(ref qs[0], qs.Length);
            gpu.BeginStep(m);
            int iters = dryRun ? 2 : 20;
            double Time(AttentionSplitMode mode)
            {
                var old = gpu.AttentionSplit;
                gpu.AttentionSplit = mode;
                try
                {
                    gpu.Attention(q, cache, 0, shape, o);
                    gpu.Synchronize();
                    var sw = Stopwatch.StartNew();
                    for (int i = 0; i < iters; i++) gpu.Attention(q, cache, 0, shape, o);
                    gpu.Synchronize();
                    return sw.Elapsed.TotalMilliseconds / iters;
                }
                finally { gpu.AttentionSplit = old; }
            }
            double ms = Time(AttentionSplitMode.Auto);
            // Decode is where split-KV matters: time the same step with every tile walking its partitions itself.
            double? noSplit = c.QueryLen == 1 ? Time(AttentionSplitMode.Never) : null;
            int pk = gpu.AttentionPartitionBlocks * c.BlockSize;
            log($"  attention {c.Name}: {ms:F3} ms{(noSplit is { } ns ? $" (without split-KV {ns:F3} ms; {(c.Context + pk - 1) / pk} partitions of {pk} keys)" : "")}");
            results.Add(new JsonObject
            {
                ["name"] = c.Name, ["batch"] = c.Batch, ["q_len"] = c.QueryLen, ["ctx"] = c.Context, ["heads"] = c.Heads,
                ["kv_heads"] = c.KvHeads, ["head_dim"] = c.HeadDim, ["block_size"] = c.BlockSize, ["ilgpu_ms"] = ms,
                ["ilgpu_no_split_ms"] = noSplit, ["partition_keys"] = pk,
            });
        }
        return results;
    }
}
