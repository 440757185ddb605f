using BenchmarkDotNet.Attributes;
using Inference.Kernels;
using Inference.Kernels.Cpu;

namespace Inference.Bench;

/// <summary>CPU kernels at 110m-model shapes: matmul (decode and prefill, F32/int8/int4), attention, RMSNorm.</summary>
[MemoryDiagnoser]
public unsafe class KernelBenchmarks
{
    private const int Hidden = 768, Heads = 12, HeadDim = 64, Context = 512, BlockSize = 16;

    [Params(1, 64)]
    public int Rows;

    [Params("f32", "int8", "int4")]
    public string Format = "f32";

    private CpuBackend _b = null!;
    private CpuActivation _x = null!, _y = null!, _q = null!, _att = null!;
    private HostWeight _w = null!, _norm = null!;
    private IDeviceWeight _dw = null!, _dnorm = null!;
    private CpuKvCache _cache = null!;
    private StepMetadata _meta = null!;

    [GlobalSetup]
    public void Setup()
    {
        _b = new CpuBackend();
        var rng = new Random(1);
        float[] R(int n) { var a = new float[n]; for (int i = 0; i < n; i++) a[i] = (float)(rng.NextDouble() * 2 - 1); return a; }
        using (var f32 = HostWeight.FromFloats("w", Hidden * 4, Hidden, R(Hidden * 4 * Hidden)))
            _w = Format switch
            {
                "int8" => Quantizer.ToInt8(f32),
                "int4" => Quantizer.ToInt4(f32, 32, false),
                _ => HostWeight.FromFloats("w", Hidden * 4, Hidden, R(Hidden * 4 * Hidden)),
            };
        _dw = _b.LoadWeight(_w);
        _norm = HostWeight.FromFloats("n", 1, Hidden, R(Hidden));
        _dnorm = _b.LoadWeight(_norm);
        _x = (CpuActivation)_b.Allocate(64, Hidden);
        R(64 * Hidden).AsSpan().CopyTo(new Span<float>(_x.Data, 64 * Hidden));
        _y = (CpuActivation)_b.Allocate(64, Hidden * 4);
        _q = (CpuActivation)_b.Allocate(64, Hidden);
        R(64 * Hidden).AsSpan().CopyTo(new Span<float>(_q.Data, 64 * Hidden));
        _att = (CpuActivation)_b.Allocate(64, Hidden);
        int blocks = Context / BlockSize + 1;
        _cache = (CpuKvCache)_b.AllocateKvCache(new KvCacheShape(1, blocks, BlockSize, Heads, HeadDim));
        R(blocks * BlockSize * Hidden).AsSpan().CopyTo(new Span<float>(_cache.K(0), blocks * BlockSize * Hidden));
        R(blocks * BlockSize * Hidden).AsSpan().CopyTo(new Span<float>(_cache.V(0), blocks * BlockSize * Hidden));
        // Rows decode queries at the end of one 512-token sequence.
        _meta = new StepMetadata(64, 1, blocks);
        _meta.NumTokens = Rows;
        _meta.NumSeqs = 1;
        _meta.QueryStart[1] = Rows;
        _meta.SeqLens[0] = Context;
        for (int i = 0; i < Rows; i++) _meta.Positions[i] = Context - Rows + i;
        for (int i = 0; i < blocks - 1; i++) _meta.BlockTables[i] = i + 1;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _b.Dispose();
        _w.Dispose();
        _norm.Dispose();
    }

    /// <summary>[Rows, 768] x [3072, 768]^T.</summary>
    [Benchmark]
    public void MatMul() => _b.MatMul(_x, _dw, null, _y, Rows);

    [Benchmark]
    public void Attention()
    {
        if (Format != "f32") return; // attention does not depend on the weight format
        _b.BeginStep(_meta);
        _b.Attention(_q, _cache, 0, new AttentionShape(Heads, Heads, HeadDim, 0.125f), _att);
    }

    [Benchmark]
    public void RmsNorm()
    {
        if (Format != "f32") return;
        _b.RmsNorm(_x, _dnorm, 1e-5f, _att, Rows);
    }
}
