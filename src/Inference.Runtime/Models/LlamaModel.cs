using Inference.Kernels;

namespace Inference.Models;

/// <summary>
/// The Llama / Mistral / Qwen2 decoder forward pass over a ragged batch, written top to bottom against a
/// compute backend. Buffers are allocated once for the largest step; a step allocates nothing.
/// </summary>
public sealed class LlamaModel : IDisposable
{
    private sealed class Layer
    {
        public required IDeviceWeight InputNorm, Q, K, V, O, PostNorm, Gate, Up, Down;
        public IDeviceWeight? QBias, KBias, VBias;
    }

    private readonly IComputeBackend _backend;
    private readonly ModelConfig _c;
    private readonly IDeviceWeight _embed, _norm, _head;
    private readonly Layer[] _layers;
    private readonly RopeTable _rope;
    private readonly AttentionShape _attn;
    private readonly List<IDisposable> _owned = [];

    // Activations, sized for MaxTokens rows (one step's token budget).
    private readonly IActivation _x;      // [T, H] residual stream
    private readonly IActivation _h;      // [T, H] normed input / projection output
    private readonly IActivation _q;      // [T, NumHeads*HeadDim]
    private readonly IActivation _k;      // [T, KvDim]
    private readonly IActivation _v;      // [T, KvDim]
    private readonly IActivation _att;    // [T, NumHeads*HeadDim]
    private readonly IActivation _gate;   // [T, I]
    private readonly IActivation _up;     // [T, I]
    private readonly IActivation _last;   // [S, H] rows that produce logits
    private readonly IActivation _lastN;  // [S, H]
    private readonly IActivation _logits; // [S, V]

    public ModelConfig Config => _c;
    public IComputeBackend Backend => _backend;
    public int MaxTokens { get; }
    public int MaxSeqs { get; }

    public LlamaModel(IComputeBackend backend, LlamaWeights w, int maxTokens, int maxSeqs)
    {
        _backend = backend;
        _c = w.Config;
        MaxTokens = maxTokens;
        MaxSeqs = maxSeqs;
        IDeviceWeight Own(IDeviceWeight d) { _owned.Add(d); return d; }
        IDeviceWeight Load(HostWeight hw) => Own(backend.LoadWeight(hw));
        IDeviceWeight? LoadOpt(HostWeight? hw) => hw is null ? null : Load(hw);
        // An untied embedding table is only looked up, never multiplied: no matmul preparation for it.
        bool tied = ReferenceEquals(w.LmHead, w.Embedding);
        _embed = tied ? Load(w.Embedding) : Own(backend.LoadEmbeddingTable(w.Embedding));
        _norm = Load(w.FinalNorm);
        _head = tied ? _embed : Load(w.LmHead);
        _layers = new Layer[w.Layers.Count];
        for (int i = 0; i < _layers.Length; i++)
        {
            var l = w.Layers[i];
            _layers[i] = new Layer
            {
                InputNorm = Load(l.InputNorm), Q = Load(l.Q), K = Load(l.K), V = Load(l.V),
                QBias = LoadOpt(l.QBias), KBias = LoadOpt(l.KBias), VBias = LoadOpt(l.VBias),
                O = Load(l.O), PostNorm = Load(l.PostAttentionNorm), Gate = Load(l.Gate), Up = Load(l.Up), Down = Load(l.Down),
            };
        }
        _rope = ReferenceLlama.RopeOf(_c);
        _attn = new AttentionShape(_c.NumHeads, _c.NumKvHeads, _c.HeadDim, 1f / MathF.Sqrt(_c.HeadDim));
        IActivation A(int rows, int cols) { var a = backend.Allocate(rows, cols); _owned.Add(a); return a; }
        _x = A(maxTokens, _c.HiddenSize);
        _h = A(maxTokens, _c.HiddenSize);
        _q = A(maxTokens, _c.QDim);
        _k = A(maxTokens, _c.KvDim);
        _v = A(maxTokens, _c.KvDim);
        _att = A(maxTokens, _c.QDim);
        _gate = A(maxTokens, _c.IntermediateSize);
        _up = A(maxTokens, _c.IntermediateSize);
        _last = A(maxSeqs, _c.HiddenSize);
        _lastN = A(maxSeqs, _c.HiddenSize);
        _logits = A(maxSeqs, _c.VocabSize);
    }

    /// <summary>A KV pool shaped for this model; an element type the backend lacks is a clear error.</summary>
    public IKvCache AllocateKvCache(int numBlocks, int blockSize, KvCacheDType dtype = KvCacheDType.F32)
    {
        if (!_backend.SupportsKvCacheDType(dtype))
            throw new InferenceException($"--kv-cache-dtype {dtype.ToString().ToLowerInvariant()} is not supported on {_backend.Name}; use f32 or f16");
        return _backend.AllocateKvCache(new KvCacheShape(_c.NumLayers, numBlocks, blockSize, _c.NumKvHeads, _c.HeadDim, dtype));
    }

    /// <summary>
    /// Runs one step: writes every token's K/V into the cache and the logits of meta.SampleRows into
    /// <paramref name="logits"/> ([NumSample, VocabSize], row-major).
    /// </summary>
    public void Forward(StepMetadata meta, IKvCache cache, Span<float> logits)
    {
        int s = ForwardToLogits(meta, cache);
        if (s > 0) _backend.Read(_logits, s, logits[..(s * _c.VocabSize)]);
    }

    /// <summary>
    /// Runs one step like <see cref="Forward"/> but leaves the logits on the backend: only each sampling row's
    /// argmax (the greedy token, picked as the sampler's IndexOfMax would) and its logit come back.
    /// </summary>
    public void ForwardArgMax(StepMetadata meta, IKvCache cache, Span<int> tokens, Span<float> maxLogits)
    {
        int s = ForwardToLogits(meta, cache);
        if (s > 0) _backend.ArgMax(_logits, s, tokens, maxLogits);
    }

    /// <summary>Everything up to the lm-head: the logits of meta.SampleRows in the backend's buffer; returns their count.</summary>
    private int ForwardToLogits(StepMetadata meta, IKvCache cache)
    {
        int t = meta.NumTokens;
        if (t > MaxTokens) throw new ArgumentException($"step has {t} tokens; the model was sized for {MaxTokens}");
        if (meta.NumSample > MaxSeqs) throw new ArgumentException($"step samples {meta.NumSample} rows; the model was sized for {MaxSeqs}");
        meta.Validate(cache.Shape.NumSlots, _c.VocabSize);
        var b = _backend;
        b.BeginStep(meta);
        b.Embed(_embed, _x);
        for (int i = 0; i < _layers.Length; i++)
        {
            var l = _layers[i];
            b.RmsNorm(_x, l.InputNorm, _c.RmsNormEps, _h, t);
            b.MatMulFused(_h, t, l.Q, l.QBias, _q, l.K, l.KBias, _k, l.V, l.VBias, _v);
            b.Rope(_q, _k, _rope, _c.NumHeads, _c.NumKvHeads, t);
            b.StoreKv(_k, _v, cache, i, t);
            b.Attention(_q, cache, i, _attn, _att);
            b.MatMul(_att, l.O, null, _h, t);
            b.Add(_x, _h, t);

            b.RmsNorm(_x, l.PostNorm, _c.RmsNormEps, _h, t);
            b.MatMulFused(_h, t, l.Gate, null, _gate, l.Up, null, _up);
            b.SiluMul(_gate, _up, _gate, t);
            b.MatMul(_gate, l.Down, null, _h, t);
            b.Add(_x, _h, t);
        }
        int s = meta.NumSample;
        if (s == 0) return 0;
        // Only rows that sample need the final norm and the (large) vocabulary projection.
        b.GatherSampleRows(_x, _last);
        b.RmsNorm(_last, _norm, _c.RmsNormEps, _lastN, s);
        b.MatMul(_lastN, _head, null, _logits, s);
        return s;
    }

    public void Dispose()
    {
        foreach (var d in _owned) d.Dispose();
        _owned.Clear();
    }
}
