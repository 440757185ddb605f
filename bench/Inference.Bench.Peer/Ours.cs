using Inference.Execution;
using Inference.Kernels.Cpu;
using Inference.Models;
using Inference.Sampling;

namespace Inference.Bench.Peer;

/// <summary>Our engine at batch 1, timed like `inference bench latency`.</summary>
internal static class Ours
{
    /// <summary>The prompt both engines get: seeded random ids (as bench latency makes them).</summary>
    public static int[] Prompt(string dir, int len)
    {
        var config = ModelConfig.Load(dir);
        var rng = new SeededRandom(1234);
        var prompt = new int[len];
        for (int i = 0; i < len; i++) prompt[i] = 3 + (int)(rng.NextUInt64() % (ulong)(config.VocabSize - 3));
        return prompt;
    }

    public static Result Run(string dir, string quantize, string kvDType, int threads, int[] prompt, int genLen)
    {
        using var model = LoadedModel.Load(dir, weightSource: WeightSources.For(quantize == "f32" ? null : quantize, 32));
        using var backend = new CpuBackend(threads);
        const int blockSize = 16;
        int blocks = (prompt.Length + genLen + blockSize - 1) / blockSize + 1;
        using var runner = new ModelRunner(new LlamaModel(backend, model.Weights, prompt.Length, 1), blocks, blockSize,
            Inference.Engine.EngineOptions.ParseKvCacheDType(kvDType) ?? ((Inference.Kernels.IComputeBackend)backend).PreferredKvCacheDType);
        var table = Enumerable.Range(1, blocks - 1).ToArray();
        var token = new int[1];
        double prefill = double.MaxValue, decode = double.MaxValue, fromEmpty = double.MaxValue;
        for (int it = 0; it <= Timing.Runs; it++)
        {
            double p = Timing.Seconds(() =>
            {
                runner.BeginBatch();
                runner.AddSequence(prompt, 0, table, sample: true);
                token[0] = System.Numerics.Tensors.TensorPrimitives.IndexOfMax(runner.Execute());
            });
            double d = Decode(prompt.Length);
            // llama-bench's tg: the same decode steps from an empty context (positions 0..genLen-1), so the KV cache
            // read per token is small and the step is the weights' stream.
            token[0] = prompt[0];
            double e = Decode(0);
            if (it == 0) continue; // warm-up
            prefill = Math.Min(prefill, p);
            decode = Math.Min(decode, d);
            fromEmpty = Math.Min(fromEmpty, e);
        }
        // A step at position p reads the K and V of keys 0..p; over the steps after the prompt that averages
        // prompt + (genLen + 1) / 2 keys, of every layer, at the cache's element size.
        var c = model.Config;
        int kvBytes = runner.KvCache.Shape.ElementBytes;
        double kvPerToken = (prompt.Length + (genLen + 1) / 2.0) * 2 * c.NumKvHeads * c.HeadDim * c.NumLayers * kvBytes;
        return new Result(prompt.Length / prefill, genLen / decode, model.Weights.MatrixBytes, ComputePeak.PrefillMacs(model.Weights, prompt.Length),
            genLen / fromEmpty, kvPerToken);

        // genLen greedy steps at batch 1 from position start, fed from token[0].
        double Decode(int start) => Timing.Seconds(() =>
        {
            for (int i = 0; i < genLen; i++)
            {
                runner.BeginBatch();
                runner.AddSequence(token, start + i, table, sample: true);
                token[0] = System.Numerics.Tensors.TensorPrimitives.IndexOfMax(runner.Execute());
            }
        });
    }
}
