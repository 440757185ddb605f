using System.Diagnostics;
using Inference.Kernels;

namespace Inference.Bench;

/// <summary>
/// A compute backend that forwards every op to another and adds up the wall time of each kind of op (matmuls by
/// the weight they multiply), so a decode step can be split into its parts. Timing only: no op changes.
/// </summary>
internal sealed class TimedBackend(IComputeBackend inner, Func<IDeviceWeight, string> matMulName) : IComputeBackend
{
    private readonly Dictionary<string, long> _ticks = [];
    private readonly Dictionary<(IDeviceWeight, IDeviceWeight?, IDeviceWeight?), string> _labels = [];

    /// <summary>Seconds spent per op kind since the last <see cref="Reset"/>.</summary>
    public IEnumerable<(string Op, double Seconds)> Times =>
        _ticks.OrderByDescending(kv => kv.Value).Select(kv => (kv.Key, kv.Value / (double)Stopwatch.Frequency));

    public void Reset() => _ticks.Clear();

    private void Add(string op, long start) => Add(op, start, Stopwatch.GetTimestamp());

    private void Add(string op, long start, long end) => _ticks[op] = _ticks.GetValueOrDefault(op) + end - start;

    /// <summary>"matmul q_proj+k_proj+v_proj": made once per weight (a step then allocates nothing here).</summary>
    private string Label(IDeviceWeight w1, IDeviceWeight? w2 = null, IDeviceWeight? w3 = null)
    {
        if (!_labels.TryGetValue((w1, w2, w3), out var label))
            _labels[(w1, w2, w3)] = label = "matmul " + matMulName(w1) + (w2 is null ? "" : "+" + matMulName(w2)) + (w3 is null ? "" : "+" + matMulName(w3));
        return label;
    }

    public string Name => inner.Name;
    public KvCacheDType PreferredKvCacheDType => inner.PreferredKvCacheDType;
    public IDeviceWeight LoadWeight(HostWeight weight) => inner.LoadWeight(weight);
    public IDeviceWeight LoadEmbeddingTable(HostWeight weight) => inner.LoadEmbeddingTable(weight);
    public IActivation Allocate(int maxRows, int cols) => inner.Allocate(maxRows, cols);
    public IKvCache AllocateKvCache(KvCacheShape shape) => inner.AllocateKvCache(shape);
    public bool SupportsKvCacheDType(KvCacheDType dtype) => inner.SupportsKvCacheDType(dtype);
    public void Synchronize() => inner.Synchronize();
    public void Dispose() => inner.Dispose();

    public void BeginStep(StepMetadata meta) { long t = Stopwatch.GetTimestamp(); inner.BeginStep(meta); Add("begin step", t); }
    public void Embed(IDeviceWeight table, IActivation output) { long t = Stopwatch.GetTimestamp(); inner.Embed(table, output); Add("embed", t); }
    public void RmsNorm(IActivation x, IDeviceWeight weight, float eps, IActivation y, int rows) { long t = Stopwatch.GetTimestamp(); inner.RmsNorm(x, weight, eps, y, rows); Add("rms norm", t); }
    public void Rope(IActivation q, IActivation k, RopeTable table, int numHeads, int numKvHeads, int rows) { long t = Stopwatch.GetTimestamp(); inner.Rope(q, k, table, numHeads, numKvHeads, rows); Add("rope", t); }
    public void StoreKv(IActivation k, IActivation v, IKvCache cache, int layer, int rows) { long t = Stopwatch.GetTimestamp(); inner.StoreKv(k, v, cache, layer, rows); Add("store kv", t); }
    public void Attention(IActivation q, IKvCache cache, int layer, AttentionShape shape, IActivation output) { long t = Stopwatch.GetTimestamp(); inner.Attention(q, cache, layer, shape, output); Add("attention", t); }
    public void SiluMul(IActivation gate, IActivation up, IActivation output, int rows) { long t = Stopwatch.GetTimestamp(); inner.SiluMul(gate, up, output, rows); Add("silu x up", t); }
    public void Add(IActivation x, IActivation y, int rows) { long t = Stopwatch.GetTimestamp(); inner.Add(x, y, rows); Add("residual add", t); }
    public void GatherSampleRows(IActivation src, IActivation dst) { long t = Stopwatch.GetTimestamp(); inner.GatherSampleRows(src, dst); Add("gather rows", t); }
    public void Read(IActivation x, int rows, Span<float> dst) { long t = Stopwatch.GetTimestamp(); inner.Read(x, rows, dst); Add("read logits", t); }
    public void ArgMax(IActivation x, int rows, Span<int> indices, Span<float> values) { long t = Stopwatch.GetTimestamp(); inner.ArgMax(x, rows, indices, values); Add("argmax", t); }

    public void MatMul(IActivation x, IDeviceWeight weight, IDeviceWeight? bias, IActivation y, int rows)
    {
        long t = Stopwatch.GetTimestamp();
        inner.MatMul(x, weight, bias, y, rows);
        long end = Stopwatch.GetTimestamp();
        Add(Label(weight), t, end);
    }

    public void MatMulFused(IActivation x, int rows,
        IDeviceWeight w1, IDeviceWeight? b1, IActivation y1,
        IDeviceWeight w2, IDeviceWeight? b2, IActivation y2,
        IDeviceWeight? w3 = null, IDeviceWeight? b3 = null, IActivation? y3 = null)
    {
        long t = Stopwatch.GetTimestamp();
        inner.MatMulFused(x, rows, w1, b1, y1, w2, b2, y2, w3, b3, y3);
        long end = Stopwatch.GetTimestamp();
        Add(Label(w1, w2, w3), t, end);
    }
}
