using System.Diagnostics;
using System.Text.Json;
using Inference.Tokenization;

namespace Inference.Tests.Tokenization;

public sealed class SyntheticTokenizerTests
{
    [Theory]
    [InlineData(4096)]
    [InlineData(32000)]
    [InlineData(SyntheticTokenizer.MinVocabSize)]
    public void WritesALoadableLlamaTokenizerOfExactSize(int vocabSize)
    {
        using var dir = new TempDir();
        SyntheticTokenizer.Write(dir.Path, vocabSize);
        var tok = TokenizerLoader.Load(dir.Path);

        Assert.Equal(vocabSize, tok.VocabSize);
        Assert.Equal("<unk>", tok.IdToToken(0));
        Assert.Equal(1, tok.BosTokenId);
        Assert.Equal([2], tok.EosTokenIds);
        Assert.True(tok.AddBosToken);
        Assert.Equal("<0x00>", tok.IdToToken(3));
        Assert.Equal("<0xFF>", tok.IdToToken(258));
        Assert.Equal("▁", tok.IdToToken(259));
        Assert.Equal(SyntheticTokenizer.ChatTemplate, tok.ChatTemplate);
        for (int id = 0; id < vocabSize; id++)
            Assert.NotNull(tok.IdToToken(id));

        foreach (string text in new[] { "Once upon a time, Lily said \"hi\".", "  x  y ", "tab\tnew\nline 42", "é中🙂", "" })
        {
            int[] ids = tok.Encode(text);
            Assert.Equal(1, ids[0]);
            Assert.Equal(text, tok.Decode(ids));
        }
    }

    [Fact]
    public void ChatTemplateIsStories260Ks()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(RepoPaths.Stories260K, "tokenizer_config.json")));
        Assert.Equal(SyntheticTokenizer.ChatTemplate, doc.RootElement.GetProperty("chat_template").GetString());
    }

    [Fact]
    public void MergesGiveMultiCharacterTokens()
    {
        using var dir = new TempDir();
        SyntheticTokenizer.Write(dir.Path, 4096);
        var tok = TokenizerLoader.Load(dir.Path);
        string text = "Once upon a time there was a little girl";
        Assert.True(tok.Encode(text, addSpecialTokens: false).Length < text.Length / 2);
    }

    [Fact]
    public void SameSeedSameFilesOtherSeedOtherVocab()
    {
        using var a = new TempDir();
        using var b = new TempDir();
        using var c = new TempDir();
        SyntheticTokenizer.Write(a.Path, 4096, seed: 7);
        SyntheticTokenizer.Write(b.Path, 4096, seed: 7);
        SyntheticTokenizer.Write(c.Path, 4096, seed: 8);
        Assert.Equal(File.ReadAllText(a.File("tokenizer.json")), File.ReadAllText(b.File("tokenizer.json")));
        Assert.NotEqual(File.ReadAllText(a.File("tokenizer.json")), File.ReadAllText(c.File("tokenizer.json")));
    }

    [Fact]
    public void WritesTheLargeVocabularyQuickly()
    {
        using var dir = new TempDir();
        SyntheticTokenizer.Write(dir.Path, 1000); // warm up JIT
        var watch = Stopwatch.StartNew();
        SyntheticTokenizer.Write(dir.Path, 32000, seed: 3);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1), $"took {watch.Elapsed}");
    }

    [Fact]
    public void RejectsTooSmallVocabulary()
    {
        using var dir = new TempDir();
        Assert.Throws<ArgumentOutOfRangeException>(() => SyntheticTokenizer.Write(dir.Path, 100));
    }
}
