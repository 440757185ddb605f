using Inference.Kernels;
using Inference.Safetensors;

namespace Inference.Models;

/// <summary>The weights of one decoder layer, as host views (mapped file memory or owned buffers).</summary>
public sealed class LlamaLayerWeights
{
    public required HostWeight InputNorm { get; init; }
    public required HostWeight Q { get; init; }
    public required HostWeight K { get; init; }
    public required HostWeight V { get; init; }
    public HostWeight? QBias { get; init; }
    public HostWeight? KBias { get; init; }
    public HostWeight? VBias { get; init; }
    public required HostWeight O { get; init; }
    public required HostWeight PostAttentionNorm { get; init; }
    public required HostWeight Gate { get; init; }
    public required HostWeight Up { get; init; }
    public required HostWeight Down { get; init; }

    public IEnumerable<HostWeight> All()
    {
        yield return InputNorm; yield return Q; yield return K; yield return V;
        if (QBias is not null) yield return QBias;
        if (KBias is not null) yield return KBias;
        if (VBias is not null) yield return VBias;
        yield return O; yield return PostAttentionNorm; yield return Gate; yield return Up; yield return Down;
    }
}

/// <summary>
/// All weights of a Llama-family model in Hugging Face naming, checked against config.json. Matrices stay
/// views into the mapped safetensors; only norm and bias vectors are widened to owned F32 copies.
/// </summary>
public sealed class LlamaWeights : IDisposable
{
    private readonly List<HostWeight> _owned = [];

    public ModelConfig Config { get; }
    public HostWeight Embedding { get; }
    public IReadOnlyList<LlamaLayerWeights> Layers { get; }
    public HostWeight FinalNorm { get; }
    public HostWeight LmHead { get; }

    private LlamaWeights(ModelConfig config, HostWeight embedding, IReadOnlyList<LlamaLayerWeights> layers, HostWeight norm, HostWeight lmHead, List<HostWeight> owned)
    {
        Config = config;
        Embedding = embedding;
        Layers = layers;
        FinalNorm = norm;
        LmHead = lmHead;
        _owned = owned;
    }

    /// <summary>Bytes of all matrices (what a decode step streams), counting a tied head once.</summary>
    public long MatrixBytes
    {
        get
        {
            long total = 0;
            foreach (var l in Layers) total += l.Q.TotalBytes + l.K.TotalBytes + l.V.TotalBytes + l.O.TotalBytes + l.Gate.TotalBytes + l.Up.TotalBytes + l.Down.TotalBytes;
            return total + LmHead.TotalBytes;
        }
    }

    /// <summary>Builds weight views from an open safetensors folder; errors name the file and tensor.</summary>
    public static LlamaWeights Load(ModelConfig c, SafetensorsModel st, IWeightSource? source = null)
    {
        source ??= new SafetensorsWeightSource(st);
        var owned = new List<HostWeight>();
        try
        {
            int h = c.HiddenSize;
            var embed = source.Matrix("model.embed_tokens.weight", c.VocabSize, h);
            var layers = new LlamaLayerWeights[c.NumLayers];
            for (int i = 0; i < c.NumLayers; i++)
            {
                string p = $"model.layers.{i}.";
                HostWeight Vec(string name, int n) { var w = source.Vector(p + name, n); owned.Add(w); return w; }
                layers[i] = new LlamaLayerWeights
                {
                    InputNorm = Vec("input_layernorm.weight", h),
                    Q = source.Matrix(p + "self_attn.q_proj.weight", c.QDim, h),
                    K = source.Matrix(p + "self_attn.k_proj.weight", c.KvDim, h),
                    V = source.Matrix(p + "self_attn.v_proj.weight", c.KvDim, h),
                    QBias = c.AttentionBias ? Vec("self_attn.q_proj.bias", c.QDim) : null,
                    KBias = c.AttentionBias ? Vec("self_attn.k_proj.bias", c.KvDim) : null,
                    VBias = c.AttentionBias ? Vec("self_attn.v_proj.bias", c.KvDim) : null,
                    O = source.Matrix(p + "self_attn.o_proj.weight", h, c.QDim),
                    PostAttentionNorm = Vec("post_attention_layernorm.weight", h),
                    Gate = source.Matrix(p + "mlp.gate_proj.weight", c.IntermediateSize, h),
                    Up = source.Matrix(p + "mlp.up_proj.weight", c.IntermediateSize, h),
                    Down = source.Matrix(p + "mlp.down_proj.weight", h, c.IntermediateSize),
                };
            }
            var norm = source.Vector("model.norm.weight", h);
            owned.Add(norm);
            HostWeight head = c.TieWordEmbeddings || !st.Contains("lm_head.weight")
                ? (c.TieWordEmbeddings ? embed : throw new ModelFormatException(st.Directory, "the model needs tensor 'lm_head.weight' (tie_word_embeddings is false)", "lm_head.weight"))
                : source.Matrix("lm_head.weight", c.VocabSize, h);
            owned.AddRange(source.OwnedMatrices);
            return new LlamaWeights(c, embed, layers, norm, head, owned);
        }
        catch
        {
            foreach (var w in owned) w.Dispose();
            foreach (var w in source.OwnedMatrices) w.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        foreach (var w in _owned) w.Dispose();
        _owned.Clear();
    }
}
