using System.Text.Json.Nodes;
using Inference.Models;
using Inference.Safetensors;

namespace Inference.Tests.Models;

/// <summary>Model folders that disagree with themselves get errors naming the file and the tensor.</summary>
public sealed class ModelErrorTests
{
    private static readonly ModelConfig Small = RandomModel.Preset("tiny") with { HiddenSize = 32, HeadDim = 8, NumHeads = 4, NumKvHeads = 2, NumLayers = 1, IntermediateSize = 48, VocabSize = 280 };

    private static void EditConfig(string dir, Action<JsonObject> edit)
    {
        string path = Path.Combine(dir, "config.json");
        var o = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        edit(o);
        File.WriteAllText(path, o.ToJsonString());
    }

    [Fact]
    public void ShapeThatDisagreesWithConfigNamesTensor()
    {
        using var tmp = new TempDir();
        RandomModel.Write(tmp.Path, Small, seed: 1);
        EditConfig(tmp.Path, o => o["intermediate_size"] = 64);
        var e = Assert.Throws<ModelFormatException>(() => LoadedModel.Load(tmp.Path).Dispose());
        Assert.Contains("model.layers.0.mlp.gate_proj.weight", e.Message);
        Assert.Contains("model.safetensors", e.Message);
        Assert.Contains("[48, 32]", e.Message);
    }

    [Fact]
    public void MissingTensorIsNamed()
    {
        using var tmp = new TempDir();
        RandomModel.Write(tmp.Path, Small, seed: 1);
        // Rewrite the file without one tensor.
        var writer = new SafetensorsWriter();
        using (var st = SafetensorsFile.Open(Path.Combine(tmp.Path, "model.safetensors")))
            foreach (var (name, info) in st.Tensors)
                if (name != "model.layers.0.self_attn.v_proj.weight")
                    writer.Add(name, info.DType, info.Shape, st.GetView(name).Bytes);
        writer.Write(Path.Combine(tmp.Path, "model.safetensors"));
        var e = Assert.Throws<ModelFormatException>(() => LoadedModel.Load(tmp.Path).Dispose());
        Assert.Contains("model.layers.0.self_attn.v_proj.weight", e.Message);
    }

    [Fact]
    public void UntiedModelWithoutLmHeadIsAnError()
    {
        using var tmp = new TempDir();
        RandomModel.Write(tmp.Path, Small with { TieWordEmbeddings = true }, seed: 1);
        EditConfig(tmp.Path, o => o["tie_word_embeddings"] = false);
        var e = Assert.Throws<ModelFormatException>(() => LoadedModel.Load(tmp.Path).Dispose());
        Assert.Contains("lm_head.weight", e.Message);
    }

    [Theory]
    [InlineData("architectures", "[\"GPT2LMHeadModel\"]", "unsupported architecture")]
    [InlineData("rope_scaling", "{\"rope_type\": \"yarn\", \"factor\": 4.0}", "unsupported rope_scaling type 'yarn'")]
    [InlineData("num_key_value_heads", "3", "multiple of num_key_value_heads")]
    [InlineData("hidden_size", "\"big\"", "'hidden_size' must be an integer")]
    [InlineData("hidden_act", "\"gelu\"", "unsupported hidden_act")]
    [InlineData("vocab_size", "0", "vocab_size must be > 0")]
    public void BadConfigValuesAreClearErrors(string key, string json, string expected)
    {
        using var tmp = new TempDir();
        RandomModel.Write(tmp.Path, Small, seed: 1);
        EditConfig(tmp.Path, o => o[key] = JsonNode.Parse(json));
        var e = Assert.Throws<ModelFormatException>(() => ModelConfig.Load(tmp.Path));
        Assert.Contains(expected, e.Message);
        Assert.Contains("config.json", e.Message);
    }

    [Fact]
    public void MalformedConfigJsonNamesFile()
    {
        using var tmp = new TempDir();
        File.WriteAllText(tmp.File("config.json"), "{ \"hidden_size\": ");
        var e = Assert.Throws<ModelFormatException>(() => ModelConfig.Load(tmp.Path));
        Assert.Contains("config.json", e.Message);
        Assert.Contains("malformed JSON", e.Message);
    }

    [Fact]
    public void MissingFolderIsClearError()
    {
        var e = Assert.Throws<InferenceException>(() => LoadedModel.Load("/nonexistent/model-folder"));
        Assert.Contains("/nonexistent/model-folder", e.Message);
    }
}
