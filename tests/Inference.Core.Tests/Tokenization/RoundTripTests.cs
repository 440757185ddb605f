using Inference.Tokenization;

namespace Inference.Tests.Tokenization;

public sealed class TokenizerRoundTripTests
{
    private static readonly Lazy<ITokenizer> s_tok = new(() => TokenizerLoader.Load(RepoPaths.Stories260K));

    public static TheoryData<string> Texts() => new(
        "Once upon a time",
        " leading space",
        "trailing space ",
        "  two leading and  double  spaces  ",
        "digits 0123456789 and 3.14",
        "Punctuation: a, b; c! d? (e) [f] {g} \"h\" 'i' - j_k / l\\m",
        "line one\nline two\n\nline four\r\n\ttab",
        "café é É ñ ü",
        "中文字符",
        "emoji 🙂👍🏽 and 𝔘",
        "",
        " ",
        "\n");

    [Theory]
    [MemberData(nameof(Texts))]
    public void DecodeOfEncodeIsTheText(string text)
    {
        var tok = s_tok.Value;
        Assert.Equal(text, tok.Decode(tok.Encode(text)));
        Assert.Equal(text, tok.Decode(tok.Encode(text, addSpecialTokens: false)));
    }

    [Fact]
    public void NonAsciiGoesThroughByteFallback()
    {
        var tok = s_tok.Value;
        string[] tokens = tok.Encode("中", addSpecialTokens: false).Select(id => tok.IdToToken(id)!).ToArray();
        Assert.Equal(["▁", "<0xE4>", "<0xB8>", "<0xAD>"], tokens);
    }
}
