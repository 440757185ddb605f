using System.Text.Json;
using System.Text.Json.Nodes;

namespace Inference.Models;

/// <summary>How RoPE frequencies are rescaled for long contexts (config.json rope_scaling).</summary>
public sealed record RopeScaling(string Type, float Factor, float LowFreqFactor = 1f, float HighFreqFactor = 4f, int OriginalMaxPositionEmbeddings = 8192);

/// <summary>The parts of a Hugging Face config.json that a Llama-family decoder needs.</summary>
public sealed record ModelConfig
{
    public static readonly string[] SupportedArchitectures = ["LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM"];

    public string Architecture { get; init; } = "LlamaForCausalLM";
    public int HiddenSize { get; init; }
    public int IntermediateSize { get; init; }
    public int NumLayers { get; init; }
    public int NumHeads { get; init; }
    public int NumKvHeads { get; init; }
    public int HeadDim { get; init; }
    public int VocabSize { get; init; }
    public int MaxPositionEmbeddings { get; init; } = 2048;
    public float RmsNormEps { get; init; } = 1e-5f;
    public float RopeTheta { get; init; } = 10000f;
    public RopeScaling? RopeScaling { get; init; }
    public bool TieWordEmbeddings { get; init; }
    /// <summary>Bias on the q/k/v projections (Qwen2, or Llama's attention_bias).</summary>
    public bool AttentionBias { get; init; }
    public int? BosTokenId { get; init; }
    public IReadOnlyList<int> EosTokenIds { get; init; } = [];
    /// <summary>torch_dtype as written in the file, for information only.</summary>
    public string? TorchDtype { get; init; }
    /// <summary>The raw quantization_config object when the folder holds a quantized checkpoint.</summary>
    public JsonObject? QuantizationConfig { get; init; }

    public int QDim => NumHeads * HeadDim;
    public int KvDim => NumKvHeads * HeadDim;
    public int GroupSize => NumHeads / NumKvHeads;

    /// <summary>Reads and validates config.json in a model folder.</summary>
    public static ModelConfig Load(string modelDir)
    {
        string path = Path.Combine(modelDir, "config.json");
        if (!File.Exists(path))
            throw new ModelFormatException(path, "config.json not found in the model folder");
        JsonObject root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(path)) as JsonObject
                   ?? throw new ModelFormatException(path, "config.json is not a JSON object");
        }
        catch (JsonException e)
        {
            throw new ModelFormatException(path, $"malformed JSON: {e.Message}", e);
        }
        return Parse(root, path);
    }

    public static ModelConfig Parse(JsonObject root, string path)
    {
        string arch = root["architectures"] is JsonArray { Count: > 0 } a ? a[0]?.GetValue<string>() ?? "" : "";
        if (arch.Length == 0)
        {
            // Older configs give only model_type.
            arch = Str(root, "model_type", path) switch
            {
                "llama" => "LlamaForCausalLM",
                "mistral" => "MistralForCausalLM",
                "qwen2" => "Qwen2ForCausalLM",
                var mt => throw new ModelFormatException(path, $"unsupported model_type '{mt}'"),
            };
        }
        if (Array.IndexOf(SupportedArchitectures, arch) < 0)
            throw new ModelFormatException(path, $"unsupported architecture '{arch}' (supported: {string.Join(", ", SupportedArchitectures)})");

        int hidden = Int(root, "hidden_size", path);
        int heads = Int(root, "num_attention_heads", path);
        int kvHeads = root["num_key_value_heads"] is null ? heads : Int(root, "num_key_value_heads", path);
        int headDim = root["head_dim"] is null ? hidden / Math.Max(heads, 1) : Int(root, "head_dim", path);
        Positive(hidden, "hidden_size", path);
        Positive(heads, "num_attention_heads", path);
        Positive(kvHeads, "num_key_value_heads", path);
        Positive(headDim, "head_dim", path);
        if (heads % kvHeads != 0)
            throw new ModelFormatException(path, $"num_attention_heads ({heads}) must be a multiple of num_key_value_heads ({kvHeads})");
        if (headDim % 2 != 0)
            throw new ModelFormatException(path, $"head_dim ({headDim}) must be even for rotary embeddings");
        string act = root["hidden_act"] is null ? "silu" : Str(root, "hidden_act", path);
        if (act is not ("silu" or "swish"))
            throw new ModelFormatException(path, $"unsupported hidden_act '{act}' (only silu)");
        if (root["mlp_bias"] is JsonValue mb && mb.GetValue<bool>())
            throw new ModelFormatException(path, "mlp_bias = true is not supported");

        bool bias = arch == "Qwen2ForCausalLM" || (root["attention_bias"] is JsonValue ab && ab.GetValue<bool>());
        var cfg = new ModelConfig
        {
            Architecture = arch,
            HiddenSize = hidden,
            IntermediateSize = Int(root, "intermediate_size", path),
            NumLayers = Int(root, "num_hidden_layers", path),
            NumHeads = heads,
            NumKvHeads = kvHeads,
            HeadDim = headDim,
            VocabSize = Int(root, "vocab_size", path),
            MaxPositionEmbeddings = root["max_position_embeddings"] is null ? 2048 : Int(root, "max_position_embeddings", path),
            RmsNormEps = root["rms_norm_eps"] is null ? 1e-6f : Float(root, "rms_norm_eps", path),
            RopeTheta = root["rope_theta"] is null ? 10000f : Float(root, "rope_theta", path),
            RopeScaling = ParseRopeScaling(root["rope_scaling"], path),
            TieWordEmbeddings = root["tie_word_embeddings"] is JsonValue t && t.GetValue<bool>(),
            AttentionBias = bias,
            BosTokenId = root["bos_token_id"] is JsonValue b ? b.GetValue<int>() : null,
            EosTokenIds = root["eos_token_id"] switch
            {
                JsonValue v => [v.GetValue<int>()],
                JsonArray arr => arr.Select(x => x!.GetValue<int>()).ToArray(),
                _ => [],
            },
            TorchDtype = root["torch_dtype"]?.GetValue<string>(),
            QuantizationConfig = root["quantization_config"] as JsonObject,
        };
        Positive(cfg.IntermediateSize, "intermediate_size", path);
        Positive(cfg.NumLayers, "num_hidden_layers", path);
        Positive(cfg.VocabSize, "vocab_size", path);
        Positive(cfg.MaxPositionEmbeddings, "max_position_embeddings", path);
        if (!(cfg.RmsNormEps > 0)) throw new ModelFormatException(path, $"rms_norm_eps must be > 0, got {cfg.RmsNormEps}");
        if (!(cfg.RopeTheta > 0)) throw new ModelFormatException(path, $"rope_theta must be > 0, got {cfg.RopeTheta}");
        return cfg;
    }

    /// <summary>Writes config.json in Hugging Face's layout.</summary>
    public JsonObject ToJson()
    {
        var o = new JsonObject
        {
            ["architectures"] = new JsonArray(Architecture),
            ["model_type"] = Architecture switch { "MistralForCausalLM" => "mistral", "Qwen2ForCausalLM" => "qwen2", _ => "llama" },
            ["hidden_size"] = HiddenSize,
            ["intermediate_size"] = IntermediateSize,
            ["num_hidden_layers"] = NumLayers,
            ["num_attention_heads"] = NumHeads,
            ["num_key_value_heads"] = NumKvHeads,
            ["head_dim"] = HeadDim,
            ["vocab_size"] = VocabSize,
            ["max_position_embeddings"] = MaxPositionEmbeddings,
            ["rms_norm_eps"] = RmsNormEps,
            ["rope_theta"] = RopeTheta,
            ["hidden_act"] = "silu",
            ["attention_bias"] = AttentionBias,
            ["tie_word_embeddings"] = TieWordEmbeddings,
            ["torch_dtype"] = TorchDtype ?? "float32",
        };
        if (RopeScaling is { } rs)
        {
            var r = new JsonObject { ["rope_type"] = rs.Type, ["factor"] = rs.Factor };
            if (rs.Type == "llama3")
            {
                r["low_freq_factor"] = rs.LowFreqFactor;
                r["high_freq_factor"] = rs.HighFreqFactor;
                r["original_max_position_embeddings"] = rs.OriginalMaxPositionEmbeddings;
            }
            o["rope_scaling"] = r;
        }
        if (BosTokenId is { } bos) o["bos_token_id"] = bos;
        if (EosTokenIds.Count == 1) o["eos_token_id"] = EosTokenIds[0];
        else if (EosTokenIds.Count > 1) o["eos_token_id"] = new JsonArray(EosTokenIds.Select(x => (JsonNode)x).ToArray());
        if (QuantizationConfig is not null) o["quantization_config"] = QuantizationConfig.DeepClone();
        return o;
    }

    private static RopeScaling? ParseRopeScaling(JsonNode? node, string path)
    {
        if (node is null) return null;
        if (node is not JsonObject o) throw new ModelFormatException(path, "rope_scaling must be an object or null");
        string type = o["rope_type"]?.GetValue<string>() ?? o["type"]?.GetValue<string>()
                      ?? throw new ModelFormatException(path, "rope_scaling has no rope_type");
        if (type == "default") return null;
        float factor = o["factor"] is null ? 1f : Float(o, "factor", path);
        if (!(factor >= 1f)) throw new ModelFormatException(path, $"rope_scaling.factor must be >= 1, got {factor}");
        return type switch
        {
            "linear" => new RopeScaling("linear", factor),
            "llama3" => new RopeScaling("llama3", factor,
                o["low_freq_factor"] is null ? 1f : Float(o, "low_freq_factor", path),
                o["high_freq_factor"] is null ? 4f : Float(o, "high_freq_factor", path),
                o["original_max_position_embeddings"] is null ? 8192 : Int(o, "original_max_position_embeddings", path)),
            _ => throw new ModelFormatException(path, $"unsupported rope_scaling type '{type}' (supported: linear, llama3)"),
        };
    }

    private static void Positive(int v, string key, string path)
    {
        if (v <= 0) throw new ModelFormatException(path, $"{key} must be > 0, got {v}");
    }

    private static JsonNode Need(JsonObject o, string key, string path) =>
        o[key] ?? throw new ModelFormatException(path, $"missing required key '{key}'");

    private static int Int(JsonObject o, string key, string path)
    {
        try { return Need(o, key, path).GetValue<int>(); }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        { throw new ModelFormatException(path, $"'{key}' must be an integer", e); }
    }

    private static float Float(JsonObject o, string key, string path)
    {
        try { return (float)Need(o, key, path).GetValue<double>(); }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        { throw new ModelFormatException(path, $"'{key}' must be a number", e); }
    }

    private static string Str(JsonObject o, string key, string path)
    {
        try { return Need(o, key, path).GetValue<string>(); }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        { throw new ModelFormatException(path, $"'{key}' must be a string", e); }
    }
}
