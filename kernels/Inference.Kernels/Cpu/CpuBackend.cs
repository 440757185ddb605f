using System.Numerics.Tensors;

namespace Inference.Kernels.Cpu;

/// <summary>The SIMD CPU backend: Vector512/Vector256 kernels, parallel over rows on a worker pool.</summary>
public sealed unsafe class CpuBackend : IComputeBackend
{
    private readonly WorkerPool _pool;
    private StepMetadata? _meta;
    private readonly QueryTiles _tiles = new();
    // RoPE angles of the step's tokens (per token: cos then sin, HeadDim / 2 each): every layer rotates q and k of
    // a token by the same angles, so they are computed once per step instead of twice per layer.
    private float[] _ropeAngles = [];
    private RopeTable? _ropeAnglesTable;
    private int _ropeAnglesRows;

    public string Name => "cpu";
    public int Threads => _pool.Threads;

    public CpuBackend(int threads = 0)
    {
        _pool = new WorkerPool(threads <= 0 ? Environment.ProcessorCount : threads);
    }

    public IDeviceWeight LoadWeight(HostWeight weight)
    {
        // Packed now, so the first request does not pay for it; freed with the last loaded weight that uses it.
        if (IntMatMul.Supports(weight)) _ = weight.Interleaved;
        else if (MatMulKernel.TakesPanels(weight)) _ = weight.Panels;
        else return new CpuWeight(weight);
        return new CpuWeight(weight, usesPacked: true);
    }

    public IDeviceWeight LoadEmbeddingTable(HostWeight weight) => new CpuWeight(weight);

    public IActivation Allocate(int maxRows, int cols) => new CpuActivation(maxRows, cols);

    public IKvCache AllocateKvCache(KvCacheShape shape) => new CpuKvCache(shape);

    public void BeginStep(StepMetadata meta)
    {
        _meta = meta;
        _tiles.Build(meta);
        _ropeAnglesRows = 0;
    }

    private StepMetadata Meta => _meta ?? throw new InvalidOperationException("BeginStep was not called");

    public void Embed(IDeviceWeight table, IActivation output)
    {
        var w = ((CpuWeight)table).Host;
        var o = (CpuActivation)output;
        var m = Meta;
        for (int t = 0; t < m.NumTokens; t++)
            w.ReadRow(m.TokenIds[t], o.RowSpan(t));
    }

    public void RmsNorm(IActivation x, IDeviceWeight weight, float eps, IActivation y, int rows)
    {
        var job = new RmsNormJob((CpuActivation)x, ((CpuWeight)weight).Host, eps, (CpuActivation)y);
        _pool.Run(rows, ref job);
    }

    public void MatMul(IActivation x, IDeviceWeight weight, IDeviceWeight? bias, IActivation y, int rows)
    {
        if (rows == 0) return;
        var w = ((CpuWeight)weight).Host;
        var xa = (CpuActivation)x;
        var ya = (CpuActivation)y;
        if (xa.Cols != w.Cols || ya.Cols != w.Rows)
            throw new ArgumentException($"{w.Name}: x [{rows}, {xa.Cols}] times W^T [{w.Cols}, {w.Rows}] into y [{rows}, {ya.Cols}]");
        MatMulKernel.Run(_pool, xa, w, ya, rows);
        AddBias(bias, ya, rows);
    }

    public void MatMulFused(IActivation x, int rows,
        IDeviceWeight w1, IDeviceWeight? b1, IActivation y1,
        IDeviceWeight w2, IDeviceWeight? b2, IActivation y2,
        IDeviceWeight? w3 = null, IDeviceWeight? b3 = null, IActivation? y3 = null)
    {
        if (rows == 0) return;
        var xa = (CpuActivation)x;
        var t1 = Target(xa, w1, y1);
        var t2 = Target(xa, w2, y2);
        var t3 = w3 is null || y3 is null ? default : Target(xa, w3, y3);
        MatMulKernel.Run(_pool, xa, rows, t1, t2, t3);
        AddBias(b1, (CpuActivation)y1, rows);
        AddBias(b2, (CpuActivation)y2, rows);
        if (y3 is not null) AddBias(b3, (CpuActivation)y3, rows);
    }

    private static MatMulKernel.Target Target(CpuActivation x, IDeviceWeight weight, IActivation y)
    {
        var w = ((CpuWeight)weight).Host;
        var ya = (CpuActivation)y;
        if (x.Cols != w.Cols || ya.Cols != w.Rows)
            throw new ArgumentException($"{w.Name}: x [*, {x.Cols}] times W^T [{w.Cols}, {w.Rows}] into y [*, {ya.Cols}]");
        return new MatMulKernel.Target(w, ya);
    }

    private static void AddBias(IDeviceWeight? bias, CpuActivation y, int rows)
    {
        if (bias is not CpuWeight b) return;
        var bs = new ReadOnlySpan<float>(b.Host.Data, b.Host.Cols);
        for (int r = 0; r < rows; r++) TensorPrimitives.Add(y.RowSpan(r), bs, y.RowSpan(r));
    }

    public void Rope(IActivation q, IActivation k, RopeTable table, int numHeads, int numKvHeads, int rows)
    {
        var m = Meta;
        var qa = (CpuActivation)q;
        var ka = (CpuActivation)k;
        int half = table.HeadDim / 2;
        if (_ropeAnglesTable != table || _ropeAnglesRows < rows)
        {
            if (_ropeAngles.Length < rows * 2 * half) _ropeAngles = new float[Math.Max(rows, m.NumTokens) * 2 * half];
            fixed (float* a = _ropeAngles)
                for (int t = 0; t < rows; t++)
                    RopeKernel.Angles(table, m.Positions[t], a + t * 2 * half, a + t * 2 * half + half);
            _ropeAnglesTable = table;
            _ropeAnglesRows = rows;
        }
        fixed (float* a = _ropeAngles)
            for (int t = 0; t < rows; t++)
            {
                float* cos = a + t * 2 * half, sin = cos + half;
                RopeKernel.Apply(qa.Row(t), numHeads, table.HeadDim, cos, sin);
                RopeKernel.Apply(ka.Row(t), numKvHeads, table.HeadDim, cos, sin);
            }
    }

    public void StoreKv(IActivation k, IActivation v, IKvCache cache, int layer, int rows)
    {
        var m = Meta;
        var c = (CpuKvCache)cache;
        var ka = (CpuActivation)k;
        var va = (CpuActivation)v;
        int kvDim = c.Shape.KvDim;
        if (c.IsBF16)
        {
            ushort* kb = c.KBf16(layer), vb = c.VBf16(layer);
            for (int t = 0; t < rows; t++)
            {
                long slot = m.SlotMapping[t];
                BFloat16Bits.Narrow(ka.Row(t), kb + slot * kvDim, kvDim);
                BFloat16Bits.Narrow(va.Row(t), vb + slot * kvDim, kvDim);
            }
            return;
        }
        if (c.IsF16)
        {
            Half* kh = c.KHalf(layer), vh = c.VHalf(layer);
            for (int t = 0; t < rows; t++)
            {
                long slot = m.SlotMapping[t];
                TensorPrimitives.ConvertToHalf(new ReadOnlySpan<float>(ka.Row(t), kvDim), new Span<Half>(kh + slot * kvDim, kvDim));
                TensorPrimitives.ConvertToHalf(new ReadOnlySpan<float>(va.Row(t), kvDim), new Span<Half>(vh + slot * kvDim, kvDim));
            }
            return;
        }
        float* kc = c.K(layer), vc = c.V(layer);
        for (int t = 0; t < rows; t++)
        {
            long slot = m.SlotMapping[t];
            new ReadOnlySpan<float>(ka.Row(t), kvDim).CopyTo(new Span<float>(kc + slot * kvDim, kvDim));
            new ReadOnlySpan<float>(va.Row(t), kvDim).CopyTo(new Span<float>(vc + slot * kvDim, kvDim));
        }
    }

    public void Attention(IActivation q, IKvCache cache, int layer, AttentionShape shape, IActivation output)
    {
        var m = Meta;
        int perJob = PagedAttentionJob.KvHeadsPerJob(_tiles.Count, shape.NumKvHeads, _pool.Threads);
        var job = new PagedAttentionJob(m, _tiles, (CpuActivation)q, (CpuKvCache)cache, layer, shape, (CpuActivation)output, perJob);
        _pool.Run(_tiles.Count * PagedAttentionJob.JobsPerTile(shape.NumKvHeads, perJob), ref job);
    }

    public void SiluMul(IActivation gate, IActivation up, IActivation output, int rows)
    {
        var job = new SiluMulJob((CpuActivation)gate, (CpuActivation)up, (CpuActivation)output);
        _pool.Run(rows, ref job);
    }

    public void Add(IActivation x, IActivation y, int rows)
    {
        var xa = (CpuActivation)x;
        var ya = (CpuActivation)y;
        int n = rows * xa.Cols;
        TensorPrimitives.Add(new ReadOnlySpan<float>(xa.Data, n), new ReadOnlySpan<float>(ya.Data, n), new Span<float>(xa.Data, n));
    }

    public void GatherSampleRows(IActivation src, IActivation dst)
    {
        var m = Meta;
        var s = (CpuActivation)src;
        var d = (CpuActivation)dst;
        for (int i = 0; i < m.NumSample; i++)
            s.RowSpan(m.SampleRows[i]).CopyTo(d.RowSpan(i));
    }

    public void Read(IActivation x, int rows, Span<float> dst)
    {
        var a = (CpuActivation)x;
        new ReadOnlySpan<float>(a.Data, rows * a.Cols).CopyTo(dst);
    }

    public void ArgMax(IActivation x, int rows, Span<int> indices, Span<float> values)
    {
        var a = (CpuActivation)x;
        if (indices.Length < rows || values.Length < rows) throw new ArgumentException($"argmax of {rows} rows into {indices.Length} indices and {values.Length} values");
        fixed (int* pi = indices)
        fixed (float* pv = values)
        {
            var job = new ArgMaxJob(a, pi, pv);
            if (a.Cols >= ArgMaxJob.ParallelCols) _pool.Run(rows, ref job);
            else for (int r = 0; r < rows; r++) job.Execute(r);
        }
    }

    public void Synchronize() { }

    public void Dispose() => _pool.Dispose();
}
