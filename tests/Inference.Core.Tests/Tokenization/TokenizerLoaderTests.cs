using Inference.Tokenization;

namespace Inference.Tests.Tokenization;

public sealed class TokenizerLoaderTests
{
    private static readonly Lazy<ITokenizer> s_tok = new(() => TokenizerLoader.Load(RepoPaths.Stories260K));

    private static ITokenizer Tok => s_tok.Value;

    [Fact]
    public void ReadsSpecialTokensAndConfig()
    {
        Assert.Equal(512, Tok.VocabSize);
        Assert.Equal("<s>", Tok.BosToken);
        Assert.Equal("</s>", Tok.EosToken);
        Assert.Equal(1, Tok.BosTokenId);
        Assert.Equal([2], Tok.EosTokenIds);
        Assert.True(Tok.AddBosToken);
        Assert.StartsWith("{{ bos_token }}", Tok.ChatTemplate, StringComparison.Ordinal);
    }

    [Fact]
    public void MapsTokensAndIds()
    {
        Assert.Equal("<unk>", Tok.IdToToken(0));
        Assert.Equal("<0x0A>", Tok.IdToToken(13));
        Assert.Equal("▁the", Tok.IdToToken(265));
        Assert.Equal(265, Tok.TokenToId("▁the"));
        Assert.Null(Tok.TokenToId("no such token"));
        Assert.Null(Tok.IdToToken(512));
        Assert.Null(Tok.IdToToken(-1));
        Assert.True(Tok.IsSpecial(1));
        Assert.True(Tok.IsSpecial(2));
        Assert.False(Tok.IsSpecial(265));
        Assert.False(Tok.IsSpecial(100_000));
    }

    [Fact]
    public void DecodeKeepsOrSkipsSpecialTokens()
    {
        int[] ids = [1, .. Tok.Encode("Hi there", addSpecialTokens: false), 2];
        Assert.Equal("Hi there", Tok.Decode(ids));
        // Without skipping, <s> comes first, so the decoder's leading-space strip no longer eats the space of "▁Hi".
        Assert.Equal("<s> Hi there</s>", Tok.Decode(ids, skipSpecialTokens: false));
    }

    [Fact]
    public void SpecialTokenTextInInputIsOneToken()
    {
        Assert.Equal([1, .. Tok.Encode("Hi", addSpecialTokens: false), 2, 1], Tok.Encode("Hi</s><s>"));
    }

    [Fact]
    public void DecodeDropsUnknownIds()
    {
        Assert.Equal(Tok.Decode([265]), Tok.Decode([265, 9999, -5]));
    }

    [Fact]
    public void MissingTokenizerJsonNamesTheFile()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<ModelFormatException>(() => TokenizerLoader.Load(dir.Path));
        Assert.Equal(dir.File("tokenizer.json"), e.FilePath);
    }

    [Fact]
    public void InvalidJsonNamesTheFile()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("tokenizer.json"), "{ not json");
        var e = Assert.Throws<ModelFormatException>(() => TokenizerLoader.Load(dir.Path));
        Assert.Equal(dir.File("tokenizer.json"), e.FilePath);
    }

    [Fact]
    public void TokenizerJsonRejectedByTokenizersNamesTheFile()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("tokenizer.json"), """{"model": {"type": "Nope", "vocab": {"a": 0}}}""");
        var e = Assert.Throws<ModelFormatException>(() => TokenizerLoader.Load(dir.Path));
        Assert.Equal(dir.File("tokenizer.json"), e.FilePath);
    }

    [Fact]
    public void ChatTemplateListTakesDefaultAndEosIdsMerge()
    {
        using var dir = new TempDir();
        File.Copy(Path.Combine(RepoPaths.Stories260K, "tokenizer.json"), dir.File("tokenizer.json"));
        File.WriteAllText(dir.File("tokenizer_config.json"), """
            {"bos_token": {"content": "<s>"}, "eos_token": "</s>",
             "chat_template": [{"name": "tool_use", "template": "T"}, {"name": "default", "template": "D"}]}
            """);
        File.WriteAllText(dir.File("generation_config.json"), """{"eos_token_id": [2, 0]}""");
        var tok = TokenizerLoader.Load(dir.Path);
        Assert.Equal("D", tok.ChatTemplate);
        Assert.Equal("<s>", tok.BosToken);
        Assert.Equal([2, 0], tok.EosTokenIds);
        // No add_bos_token and no tokenizer_class: tokenizer.json's post-processor decides.
        Assert.True(tok.AddBosToken);
    }

    [Fact]
    public void LlamaClassHonoursAddBosAndAddEosLikeTransformers()
    {
        using var dir = new TempDir();
        File.Copy(Path.Combine(RepoPaths.Stories260K, "tokenizer.json"), dir.File("tokenizer.json"));
        File.WriteAllText(dir.File("tokenizer_config.json"), """
            {"bos_token": "<s>", "eos_token": "</s>", "add_bos_token": false, "add_eos_token": true,
             "tokenizer_class": "LlamaTokenizer"}
            """);
        var tok = TokenizerLoader.Load(dir.Path);
        int[] plain = tok.Encode("Hi", addSpecialTokens: false);
        Assert.False(tok.AddBosToken);
        Assert.Equal([.. plain, 2], tok.Encode("Hi"));
    }
}
