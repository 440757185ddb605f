using System.Diagnostics;
using System.Text.Json.Nodes;
using ILGPU.Runtime;
using Inference.Kernels;
using Inference.Kernels.Ilgpu;
using Inference.Tests.Ilgpu;

namespace Inference.Bench.Gpu;

/// <summary>Times paged attention on decode and prefill shapes; the same shapes go to the PyTorch SDPA script.</summary>
public static class AttentionBench
{
    public sealed record Case(string Name, int Batch, int QueryLen, int Context, int Heads, int KvHeads, int HeadDim, int BlockSize);

    public static IReadOnlyList<Case> Cases(bool dryRun) => dryRun
        ? [new("decode", 2, 1, 40, 4, 2, 64, 16), new("prefill", 1, 24, 24, 4, 2, 64, 16)]
        : [new("decode_b1_ctx4096", 1, 1, 4096, 32, 8, 64, 16), new("decode_b32_ctx1024", 32, 1, 1024, 32, 8, 64, 16),
           new("prefill_1x1024", 1, 1024, 1024, 32, 8, 64, 16), new("prefill_4x512", 4, 512, 512, 32, 8, 64, 16)];

    public static JsonArray Run(IlgpuBackend gpu, bool dryRun, Action<string> log)
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
            gpu.Attention(q, cache, 0, shape, o);
            gpu.Synchronize();
            int iters = dryRun ? 2 : 20;
            var sw = Stopwatch.StartNew();
            for (int i = 0; i < iters; i++) gpu.Attention(q, cache, 0, shape, o);
            gpu.Synchronize();
            double ms = sw.Elapsed.TotalMilliseconds / iters;
            log($"  attention {c.Name}: {ms:F3} ms");
            results.Add(new JsonObject
            {
                ["name"] = c.Name, ["batch"] = c.Batch, ["q_len"] = c.QueryLen, ["ctx"] = c.Context, ["heads"] = c.Heads,
                ["kv_heads"] = c.KvHeads, ["head_dim"] = c.HeadDim, ["block_size"] = c.BlockSize, ["ilgpu_ms"] = ms,
            });
        }
        return results;
    }
}
