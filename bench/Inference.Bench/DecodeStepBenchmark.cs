using BenchmarkDotNet.Attributes;
using Inference.Execution;
using Inference.Kernels.Cpu;
using Inference.Models;

namespace Inference.Bench;

/// <summary>
/// One batch-1 decode step of the tiny random model. The MemoryDiagnoser's Allocated column must read
/// "-" (zero): the decode loop allocates nothing.
/// </summary>
[MemoryDiagnoser]
public class DecodeStepBenchmark
{
    [Params("f32", "int8", "int4")]
    public string Format = "f32";

    private string _dir = null!;
    private LoadedModel _model = null!;
    private CpuBackend _backend = null!;
    private ModelRunner _runner = null!;
    private readonly int[] _token = [5];
    private readonly int[] _table = Enumerable.Range(1, 40).ToArray();
    private int _pos;

    [GlobalSetup]
    public void Setup()
    {
        _dir = Path.Combine(Path.GetTempPath(), "inference-bench-tiny");
        if (!File.Exists(Path.Combine(_dir, "config.json"))) RandomModel.Write(_dir, RandomModel.Preset("tiny"));
        _model = LoadedModel.Load(_dir, weightSource: WeightSources.For(Format == "f32" ? null : Format, 32));
        _backend = new CpuBackend();
        _runner = new ModelRunner(new LlamaModel(_backend, _model.Weights, 64, 1), 41, 16);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _runner.Dispose();
        _backend.Dispose();
        _model.Dispose();
    }

    [Benchmark]
    public int DecodeStep()
    {
        // Cycle over positions 0..511 so the context (and the work) stays bounded across iterations.
        _runner.BeginBatch();
        _runner.AddSequence(_token, _pos, _table, sample: true);
        _pos = (_pos + 1) % 512;
        return System.Numerics.Tensors.TensorPrimitives.IndexOfMax(_runner.Execute());
    }

    /// <summary>The same step as a plain greedy request runs it in the engine: the backend's argmax, no logits copied.</summary>
    [Benchmark]
    public int DecodeStepArgMax()
    {
        _runner.BeginBatch();
        _runner.AddSequence(_token, _pos, _table, sample: true);
        _pos = (_pos + 1) % 512;
        return _runner.ExecuteArgMax()[0];
    }
}
