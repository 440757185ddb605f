using System.Diagnostics;
using System.Text.Json.Nodes;
using ILGPU.Runtime;
using Inference.Execution;
using Inference.Kernels.Ilgpu;
using Inference.Models;

namespace Inference.Bench.Gpu;

/// <summary>Decode and prefill tokens/s of a random F16 model shaped like Llama 3.2 1B, against the HBM roofline.</summary>
public static class ModelBench
{
    public static ModelConfig Config(bool dryRun) => dryRun
        ? new ModelConfig { HiddenSize = 128, IntermediateSize = 256, NumLayers = 2, NumHeads = 4, NumKvHeads = 2, HeadDim = 32, VocabSize = 512, MaxPositionEmbeddings = 256, TieWordEmbeddings = true, TorchDtype = "float16" }
        : new ModelConfig { HiddenSize = 2048, IntermediateSize = 8192, NumLayers = 16, NumHeads = 32, NumKvHeads = 8, HeadDim = 64, VocabSize = 128256, MaxPositionEmbeddings = 2048, RopeTheta = 500000f, TieWordEmbeddings = true, TorchDtype = "bfloat16" };

    private const int PromptLen = 8;

    public static JsonObject Run(IlgpuBackend gpu, bool dryRun, Action<string> log)
    {
        var c = Config(dryRun);
        double bandwidth = CopyBandwidth(gpu.Accelerator, dryRun ? 8 << 20 : 1 << 30);
        log($"  device copy bandwidth: {bandwidth / 1e9:F0} GB/s");
        // The embedding is tied, so a step streams every layer matrix plus the embedding once as the head.
        // LlamaWeights.Load only touches the safetensors folder for an untied head.
        using var weights = LlamaWeights.Load(c, null!, new RandomWeightSource());
        double weightBytes = weights.MatrixBytes;
        int prefillLen = dryRun ? 32 : 512;
        int prefillSeqs = dryRun ? 1 : 4;
        int[] batches = dryRun ? [1, 4] : [1, 32];
        int prefillTokens = prefillLen * prefillSeqs;
        int maxTokens = Math.Max(prefillTokens, batches[^1] * PromptLen);
        const int blockSize = 16;
        int blocksPerSeq = (c.MaxPositionEmbeddings + blockSize - 1) / blockSize;
        var model = new LlamaModel(gpu, weights, maxTokens, maxSeqs: 32);
        using var runner = new ModelRunner(model, numBlocks: 32 * blocksPerSeq + prefillSeqs * blocksPerSeq, blockSize);
        var result = new JsonObject
        {
            ["model"] = dryRun ? "tiny-random-f16" : "1b-gqa-random-f16",
            ["weight_bytes"] = weightBytes,
            ["copy_bandwidth_gbs"] = bandwidth / 1e9,
        };
        foreach (int batch in batches)
        {
            double tps = Decode(runner, batch, blocksPerSeq, dryRun ? 2 : 32);
            double roof = batch * bandwidth / weightBytes;
            log($"  decode batch {batch}: {tps:F1} tok/s (HBM roofline {roof:F0} tok/s, {100 * tps / roof:F1}%)");
            result[$"decode_b{batch}_tok_s"] = tps;
            result[$"decode_b{batch}_roofline_tok_s"] = roof;
        }
        double ptps = Prefill(runner, prefillSeqs, prefillLen, blocksPerSeq, dryRun ? 1 : 3);
        double proof = prefillTokens * bandwidth / weightBytes;
        log($"  prefill {prefillSeqs}x{prefillLen}: {ptps:F0} tok/s (weight-streaming roofline {proof:F0} tok/s, {100 * ptps / proof:F1}%)");
        result["prefill_tokens_per_step"] = prefillTokens;
        result["prefill_tok_s"] = ptps;
        result["prefill_roofline_tok_s"] = proof;
        return result;
    }

    private static int[] Blocks(int seq, int blocksPerSeq) => Enumerable.Range(seq * blocksPerSeq, blocksPerSeq).ToArray();

    private static double Decode(ModelRunner runner, int batch, int blocksPerSeq, int steps)
    {
        var prompt = Enumerable.Range(1, PromptLen).ToArray();
        runner.BeginBatch();
        for (int s = 0; s < batch; s++) runner.AddSequence(prompt, 0, Blocks(s, blocksPerSeq), sample: true);
        runner.Execute();
        int pos = PromptLen;
        var token = new int[1];
        Stopwatch? sw = null;
        for (int i = 0; i <= steps; i++)
        {
            // The first step warms up (kernel compilation); the rest are timed.
            if (i == 1) sw = Stopwatch.StartNew();
            runner.BeginBatch();
            for (int s = 0; s < batch; s++)
            {
                token[0] = (s + i) % 100 + 1;
                runner.AddSequence(token, pos, Blocks(s, blocksPerSeq), sample: true);
            }
            // Greedy decode as the engine runs it: the tokens come from the argmax kernel, the logits stay on the GPU.
            runner.ExecuteArgMax();
            pos++;
        }
        return batch * steps / sw!.Elapsed.TotalSeconds;
    }

    private static double Prefill(ModelRunner runner, int seqs, int len, int blocksPerSeq, int reps)
    {
        var prompt = Enumerable.Range(0, len).Select(i => i % 500 + 1).ToArray();
        Stopwatch? sw = null;
        for (int r = 0; r <= reps; r++)
        {
            if (r == 1) sw = Stopwatch.StartNew();
            runner.BeginBatch();
            for (int s = 0; s < seqs; s++) runner.AddSequence(prompt, 0, Blocks(32 + s, blocksPerSeq), sample: true);
            runner.Execute();
        }
        return (double)seqs * len * reps / sw!.Elapsed.TotalSeconds;
    }

    /// <summary>Bytes moved per second (read + write) by a device-to-device copy.</summary>
    private static double CopyBandwidth(Accelerator acc, long bytes)
    {
        using var a = acc.Allocate1D<byte>(bytes);
        using var b = acc.Allocate1D<byte>(bytes);
        a.MemSetToZero();
        a.CopyTo(b);
        acc.Synchronize();
        const int iters = 5;
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < iters; i++) a.CopyTo(b);
        acc.Synchronize();
        return 2.0 * bytes * iters / sw.Elapsed.TotalSeconds;
    }
}
