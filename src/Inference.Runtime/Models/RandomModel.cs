using System.Text.Json;
using System.Text.Json.Nodes;
using Inference.Execution;
using Inference.Safetensors;
using Inference.Tokenization;

namespace Inference.Models;

/// <summary>Writes deterministic random-weight Llama folders (config, sharded safetensors, tokenizer) for tests and benchmarks.</summary>
public static class RandomModel
{
    public static readonly IReadOnlyDictionary<string, ModelConfig> Presets = new Dictionary<string, ModelConfig>
    {
        ["tiny"] = Llama(256, 4, 8, 4, 688, 4096),
        ["110m"] = Llama(768, 12, 12, 12, 2048, 32000),
        ["1b-gqa"] = Llama(2048, 16, 32, 8, 5632, 32000),
    };

    private static ModelConfig Llama(int hidden, int layers, int heads, int kvHeads, int ffn, int vocab) => new()
    {
        Architecture = "LlamaForCausalLM",
        HiddenSize = hidden,
        NumLayers = layers,
        NumHeads = heads,
        NumKvHeads = kvHeads,
        HeadDim = hidden / heads,
        IntermediateSize = ffn,
        VocabSize = vocab,
        MaxPositionEmbeddings = 2048,
        RmsNormEps = 1e-5f,
        RopeTheta = 10000f,
        BosTokenId = 1,
        EosTokenIds = [2],
    };

    public static ModelConfig Preset(string name) =>
        Presets.TryGetValue(name, out var c) ? c : throw new InferenceException($"unknown preset '{name}' (presets: {string.Join(", ", Presets.Keys)})");

    /// <summary>Writes the model folder; the same config, dtype and seed always give the same bytes.</summary>
    public static void Write(string dir, ModelConfig config, DType dtype = DType.F32, int shards = 1, ulong seed = 0, IProgress<string>? progress = null)
    {
        if (dtype is not (DType.F32 or DType.F16 or DType.BF16))
            throw new InferenceException($"dtype must be f32, f16 or bf16, got {DTypes.Name(dtype)}");
        Directory.CreateDirectory(dir);
        var c = config with { TorchDtype = dtype switch { DType.F16 => "float16", DType.BF16 => "bfloat16", _ => "float32" } };
        var rng = new SeededRandom(seed);
        var writer = new SafetensorsWriter();
        int h = c.HiddenSize;
        void Matrix(string name, int rows, int cols, float std = 0.02f)
        {
            var data = new float[(long)rows * cols];
            // Uniform with the given std (HF's initializer_range by default).
            float a = std * MathF.Sqrt(3f);
            for (long i = 0; i < data.Length; i++) data[i] = (float)(rng.NextDouble() * 2 - 1) * a;
            writer.AddF32(name, [rows, cols], data, dtype);
        }
        void Vector(string name, int n, float baseValue, float jitter)
        {
            var data = new float[n];
            for (int i = 0; i < n; i++) data[i] = baseValue + (float)(rng.NextDouble() * 2 - 1) * jitter;
            writer.AddF32(name, [n], data, dtype);
        }
        // The output projection is drawn wider (logit std about 4) so that, like a trained model, a random
        // one has a peaked next-token distribution and greedy decoding does not hinge on rounding noise.
        float headStd = 4f / MathF.Sqrt(h);
        Matrix("model.embed_tokens.weight", c.VocabSize, h, c.TieWordEmbeddings ? headStd : 0.02f);
        for (int l = 0; l < c.NumLayers; l++)
        {
            progress?.Report($"layer {l + 1}/{c.NumLayers}");
            string p = $"model.layers.{l}.";
            Vector(p + "input_layernorm.weight", h, 1f, 0.1f);
            Matrix(p + "self_attn.q_proj.weight", c.QDim, h);
            Matrix(p + "self_attn.k_proj.weight", c.KvDim, h);
            Matrix(p + "self_attn.v_proj.weight", c.KvDim, h);
            if (c.AttentionBias)
            {
                Vector(p + "self_attn.q_proj.bias", c.QDim, 0f, 0.1f);
                Vector(p + "self_attn.k_proj.bias", c.KvDim, 0f, 0.1f);
                Vector(p + "self_attn.v_proj.bias", c.KvDim, 0f, 0.1f);
            }
            Matrix(p + "self_attn.o_proj.weight", h, c.QDim);
            Vector(p + "post_attention_layernorm.weight", h, 1f, 0.1f);
            Matrix(p + "mlp.gate_proj.weight", c.IntermediateSize, h);
            Matrix(p + "mlp.up_proj.weight", c.IntermediateSize, h);
            Matrix(p + "mlp.down_proj.weight", h, c.IntermediateSize);
        }
        Vector("model.norm.weight", h, 1f, 0.1f);
        if (!c.TieWordEmbeddings) Matrix("lm_head.weight", c.VocabSize, h, headStd);
        progress?.Report("writing safetensors");
        writer.WriteFolder(dir, shards);
        var json = new JsonSerializerOptions { WriteIndented = true };
        File.WriteAllText(Path.Combine(dir, "config.json"), c.ToJson().ToJsonString(json));
        var gen = new JsonObject { ["bos_token_id"] = c.BosTokenId ?? 1, ["eos_token_id"] = c.EosTokenIds.Count > 0 ? c.EosTokenIds[0] : 2 };
        File.WriteAllText(Path.Combine(dir, "generation_config.json"), gen.ToJsonString(json));
        SyntheticTokenizer.Write(dir, c.VocabSize, (int)(seed & 0x7FFFFFFF));
    }
}
