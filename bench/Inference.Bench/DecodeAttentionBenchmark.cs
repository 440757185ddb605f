using BenchmarkDotNet.Attributes;
using Inference.Kernels;
using Inference.Kernels.Cpu;

namespace Inference.Bench;

/// <summary>
/// Decode attention over the paged cache at the 110m shape (12 layers, 12 heads of 64): one sequence at a
/// 576-token context (a batch-1 decode step of the peer benchmark) or 64 sequences at 320 (a step of the
/// engine throughput run), by KV element type. Reports one step, all layers.
/// </summary>
[MemoryDiagnoser]
public unsafe class DecodeAttentionBenchmark
{
    private const int Layers = 12, Heads = 12, HeadDim = 64, BlockSize = 16;

    [Params(1, 64)]
    public int Seqs;

    [Params("f32", "f16", "bf16")]
    public string KvDType = "f32";

    private CpuBackend _b = null!;
    private CpuKvCache _cache = null!;
    private CpuActivation _q = null!, _o = null!;
    private StepMetadata _meta = null!;
    private AttentionShape _shape;

    [GlobalSetup]
    public void Setup()
    {
        int context = Seqs == 1 ? 576 : 320, kvDim = Heads * HeadDim, perSeq = (context + BlockSize - 1) / BlockSize;
        var dtype = Inference.Engine.EngineOptions.ParseKvCacheDType(KvDType)!.Value;
        _b = new CpuBackend();
        var shape = new KvCacheShape(Layers, Seqs * perSeq + 1, BlockSize, Heads, HeadDim, dtype);
        _cache = (CpuKvCache)_b.AllocateKvCache(shape);
        var rng = new Random(1);
        // Fill through StoreKv, as the engine does, one slot row at a time.
        using var k = (CpuActivation)_b.Allocate(1, kvDim);
        using var v = (CpuActivation)_b.Allocate(1, kvDim);
        var fill = new StepMetadata(1, 1, 1) { NumTokens = 1, NumSeqs = 1 };
        for (int slot = 0; slot < shape.NumSlots; slot++)
        {
            for (int i = 0; i < kvDim; i++) { k.Data[i] = (float)(rng.NextDouble() - 0.5); v.Data[i] = (float)(rng.NextDouble() - 0.5); }
            fill.SlotMapping[0] = slot;
            _b.BeginStep(fill);
            for (int l = 0; l < Layers; l++) _b.StoreKv(k, v, _cache, l, 1);
        }
        _meta = new StepMetadata(Seqs, Seqs, perSeq) { NumTokens = Seqs, NumSeqs = Seqs };
        for (int s = 0; s < Seqs; s++)
        {
            for (int j = 0; j < perSeq; j++) _meta.BlockTables[s * perSeq + j] = 1 + s * perSeq + j;
            _meta.Positions[s] = context - 1;
            _meta.QueryStart[s + 1] = s + 1;
            _meta.SeqLens[s] = context;
        }
        _q = (CpuActivation)_b.Allocate(Seqs, kvDim);
        _o = (CpuActivation)_b.Allocate(Seqs, kvDim);
        for (int i = 0; i < Seqs * kvDim; i++) _q.Data[i] = (float)(rng.NextDouble() - 0.5);
        _shape = new AttentionShape(Heads, Heads, HeadDim, 0.125f);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _cache.Dispose();
        _b.Dispose();
    }

    [Benchmark]
    public void DecodeStepAttention()
    {
        _b.BeginStep(_meta);
        for (int l = 0; l < Layers; l++) _b.Attention(_q, _cache, l, _shape, _o);
    }
}
