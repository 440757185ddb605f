using Inference.Execution;
using Inference.Kernels.Cpu;
using Inference.Models;

namespace Inference.Tests.Models;

/// <summary>Weight-only quantization end to end on stories260K: quality, and saved folders equal quantize-at-load.</summary>
public sealed class QuantizationTests
{
    private static int[] ReferenceTokens()
    {
        var tokens = new List<int>();
        foreach (var rc in ReferenceCase.Load(RepoPaths.Stories260K)) tokens.AddRange(rc.PromptTokenIds.Concat(rc.GeneratedTokenIds));
        return tokens.ToArray();
    }

    private static PerplexityResult Score(LoadedModel m, int[] tokens)
    {
        using var backend = new CpuBackend(2);
        return Perplexity.Evaluate(backend, m.Weights, tokens, 128);
    }

    [Fact]
    public void Int8PerplexityIsWithinFewPercentOfF32()
    {
        var tokens = ReferenceTokens();
        using var f32 = LoadedModel.Load(RepoPaths.Stories260K);
        using var q8 = LoadedModel.Load(RepoPaths.Stories260K, weightSource: WeightSources.For("int8", 32));
        var a = Score(f32, tokens);
        var b = Score(q8, tokens);
        Assert.InRange(b.Perplexity / a.Perplexity, 0.97, 1.03);
        Assert.True(b.Agreement(a) >= 0.9, $"top-1 agreement {b.Agreement(a):P1}");
    }

    [Fact]
    public void Int4PerplexityStaysReasonable()
    {
        var tokens = ReferenceTokens();
        using var f32 = LoadedModel.Load(RepoPaths.Stories260K);
        using var q4 = LoadedModel.Load(RepoPaths.Stories260K, weightSource: WeightSources.For("int4", 32));
        // A 260K-parameter model is far more sensitive to 4-bit weights than real checkpoints; this guards gross breakage.
        Assert.InRange(Score(q4, tokens).Perplexity / Score(f32, tokens).Perplexity, 0.9, 1.3);
    }

    [Fact]
    public void Int8GreedyStaysCloseToReference()
    {
        using var q8 = LoadedModel.Load(RepoPaths.Stories260K, weightSource: WeightSources.For("int8", 32));
        using var backend = new CpuBackend(2);
        using var runner = new ModelRunner(new LlamaModel(backend, q8.Weights, 256, 4), numBlocks: 64, blockSize: 16);
        int same = 0, total = 0;
        foreach (var rc in ReferenceCase.Load(RepoPaths.Stories260K))
        {
            var got = ForwardPassTests.GreedyTokens(runner, rc.PromptTokenIds, 20);
            for (int i = 0; i < got.Length; i++, total++) if (got[i] == rc.GeneratedTokenIds[i]) same++;
        }
        // Greedy paths diverge for good after one flip; most of the first 20 tokens still match.
        Assert.True(same >= total * 0.6, $"{same}/{total} greedy tokens match F32");
    }

    [Theory]
    [InlineData("int8")]
    [InlineData("int4")]
    [InlineData("int4-zp")]
    public void SavedFolderGivesBitIdenticalLogits(string format)
    {
        using var tmp = new TempDir();
        string outDir = Path.Combine(tmp.Path, "q");
        QuantizedModelWriter.Write(RepoPaths.Stories260K, outDir, QuantizationSpec.Parse(format, 32));
        Assert.True(File.Exists(Path.Combine(outDir, "tokenizer.json")));
        var tokens = ReferenceTokens().Take(150).ToArray();
        using var atLoad = LoadedModel.Load(RepoPaths.Stories260K, weightSource: WeightSources.For(format, 32));
        using var saved = LoadedModel.Load(outDir);
        Assert.NotNull(saved.Config.QuantizationConfig);
        using var backend = new CpuBackend(2);
        using var m1 = new LlamaModel(backend, atLoad.Weights, tokens.Length, 1);
        using var m2 = new LlamaModel(backend, saved.Weights, tokens.Length, 1);
        Assert.Equal(Logits(m1, tokens), Logits(m2, tokens));
        Assert.Equal(atLoad.Weights.MatrixBytes, saved.Weights.MatrixBytes);
    }

    private static float[] Logits(LlamaModel model, int[] tokens)
    {
        using var runner = new ModelRunner(model, numBlocks: 16, blockSize: 16);
        var table = Enumerable.Range(1, 15).ToArray();
        runner.BeginBatch();
        runner.AddSequence(tokens, 0, table, sample: true);
        return runner.Execute().ToArray();
    }

    [Theory]
    [InlineData("int8", "model.layers.1.mlp.down_proj.scales", new byte[] { 0x00, 0x00, 0xC0, 0x7F })] // F32 NaN
    [InlineData("int4", "model.layers.1.self_attn.q_proj.scales", new byte[] { 0x00, 0x7C })]    // F16 +inf (down_proj's 172 columns stay int8)
    public void NonFiniteScaleInASavedFolderIsAClearError(string format, string tensor, byte[] bad)
    {
        using var tmp = new TempDir();
        string outDir = Path.Combine(tmp.Path, "q");
        QuantizedModelWriter.Write(RepoPaths.Stories260K, outDir, QuantizationSpec.Parse(format, 32));
        string file = Corrupt(outDir, tensor, 3, bad);
        var e = Assert.Throws<ModelFormatException>(() => LoadedModel.Load(outDir));
        Assert.Contains(Path.GetFileName(file), e.Message);
        Assert.Contains(tensor, e.Message);
        Assert.Contains("scale 3 ", e.Message);
    }

    /// <summary>Overwrites element <paramref name="index"/> of a tensor in whichever safetensors file holds it; returns that file.</summary>
    private static string Corrupt(string dir, string tensor, int index, byte[] bytes)
    {
        foreach (var file in Directory.GetFiles(dir, "*.safetensors"))
        {
            using var fs = new FileStream(file, FileMode.Open, FileAccess.ReadWrite);
            var len = new byte[8];
            fs.ReadExactly(len);
            long n = BitConverter.ToInt64(len);
            var header = new byte[n];
            fs.ReadExactly(header);
            var entry = System.Text.Json.Nodes.JsonNode.Parse(header)![tensor];
            if (entry is null) continue;
            long begin = entry["data_offsets"]![0]!.GetValue<long>();
            fs.Position = 8 + n + begin + (long)index * bytes.Length;
            fs.Write(bytes);
            return file;
        }
        throw new InvalidOperationException($"{tensor} is in no file of {dir}");
    }

    [Fact]
    public void QuantizeOptionRejectsUnknownFormats() =>
        Assert.Throws<InferenceException>(() => WeightSources.For("int3", 32));
}
