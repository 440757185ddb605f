using Inference.Tokenization;

namespace Inference.Tests.Tokenization;

public sealed class GenerationDefaultsTokenizationTests
{
    [Fact]
    public void ReadsStories260K()
    {
        var d = GenerationDefaults.Load(RepoPaths.Stories260K);
        Assert.Equal(new int[] { 2 }, d.EosTokenIds);
        Assert.Null(d.Temperature);
        Assert.Null(d.MaxNewTokens);
    }

    [Fact]
    public void ReadsAllFieldsAndIntegerWrittenFloats()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("generation_config.json"), """
            {"temperature": 1, "top_p": 0.9, "top_k": 40, "repetition_penalty": 1.1, "max_new_tokens": 256, "eos_token_id": [128001, 128009]}
            """);
        var d = GenerationDefaults.Load(dir.Path);
        Assert.Equal(1f, d.Temperature);
        Assert.Equal(0.9f, d.TopP);
        Assert.Equal(40, d.TopK);
        Assert.Equal(1.1f, d.RepetitionPenalty);
        Assert.Equal(256, d.MaxNewTokens);
        Assert.Equal(new[] { 128001, 128009 }, d.EosTokenIds);
    }

    [Fact]
    public void MissingFileGivesEmptyDefaults()
    {
        using var dir = new TempDir();
        var d = GenerationDefaults.Load(dir.Path);
        Assert.True(d is { Temperature: null, TopP: null, TopK: null, RepetitionPenalty: null, MaxNewTokens: null });
        Assert.Empty(d.EosTokenIds);
    }

    [Fact]
    public void WrongTypeNamesTheFile()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("generation_config.json"), """{"top_k": "forty"}""");
        var e = Assert.Throws<ModelFormatException>(() => GenerationDefaults.Load(dir.Path));
        Assert.Equal(dir.File("generation_config.json"), e.FilePath);
    }
}
