using Inference.Execution;
using Inference.Kernels.Cpu;
using Inference.Models;

namespace Inference.Bench.Peer;

/// <summary>Our engine at batch 1 on one model and precision, timed like `inference bench latency`.</summary>
internal sealed class Ours : IEngineRun
{
    private readonly LoadedModel _model;
    private readonly CpuBackend _backend;
    private readonly ModelRunner _runner;
    private readonly int[] _prompt;
    private readonly int[] _table;
    private readonly int[] _token = new int[1];
    private readonly int _genLen;

    /// <summary>The prompt both engines get: seeded random ids (as bench latency makes them).</summary>
    public static int[] Prompt(string dir, int len) => new SeededRandom(1234).NextTokenIds(len, ModelConfig.Load(dir).VocabSize);

    public Ours(string dir, string quantize, string kvDType, int threads, int[] prompt, int genLen)
    {
        _prompt = prompt;
        _genLen = genLen;
        _model = LoadedModel.Load(dir, weightSource: WeightSources.For(quantize == "f32" ? null : quantize, 32));
        _backend = new CpuBackend(threads);
        const int blockSize = 16;
        int blocks = (prompt.Length + genLen + blockSize - 1) / blockSize + 1;
        try
        {
            _runner = new ModelRunner(new LlamaModel(_backend, _model.Weights, prompt.Length, 1), blocks, blockSize,
                Inference.Engine.EngineOptions.ParseKvCacheDType(kvDType) ?? ((Inference.Kernels.IComputeBackend)_backend).PreferredKvCacheDType);
        }
        catch
        {
            _backend.Dispose();
            _model.Dispose();
            throw;
        }
        _table = Enumerable.Range(1, blocks - 1).ToArray();
        WeightBytes = _model.Weights.MatrixBytes;
        PrefillMacs = ComputePeak.PrefillMacs(_model.Weights, prompt.Length);
        // A step at position p reads the K and V of keys 0..p; over the steps after the prompt that averages
        // prompt + (genLen + 1) / 2 keys, of every layer, at the cache's element size.
        var c = _model.Config;
        KvBytesPerToken = (prompt.Length + (genLen + 1) / 2.0) * 2 * c.NumKvHeads * c.HeadDim * c.NumLayers * _runner.KvCache.Shape.ElementBytes;
    }

    public long WeightBytes { get; }
    public double PrefillMacs { get; }
    public double KvBytesPerToken { get; }

    public Times Iteration()
    {
        double p = Timing.Seconds(() =>
        {
            _runner.BeginBatch();
            _runner.AddSequence(_prompt, 0, _table, sample: true);
            _token[0] = System.Numerics.Tensors.TensorPrimitives.IndexOfMax(_runner.Execute());
        });
        double d = Decode(_prompt.Length);
        // llama-bench's tg: the same decode steps from an empty context (positions 0..genLen-1), so the KV cache
        // read per token is small and the step is the weights' stream.
        _token[0] = _prompt[0];
        double e = Decode(0);
        return new Times(p, d, e);
    }

    // genLen greedy steps at batch 1 from position start, fed from _token[0].
    private double Decode(int start) => Timing.Seconds(() =>
    {
        for (int i = 0; i < _genLen; i++)
        {
            _runner.BeginBatch();
            _runner.AddSequence(_token, start + i, _table, sample: true);
            _token[0] = System.Numerics.Tensors.TensorPrimitives.IndexOfMax(_runner.Execute());
        }
    });

    public void Dispose()
    {
        _runner.Dispose();
        _backend.Dispose();
        _model.Dispose();
    }
}
