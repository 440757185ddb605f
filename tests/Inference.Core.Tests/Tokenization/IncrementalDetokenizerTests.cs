using Inference.Tokenization;

namespace Inference.Tests.Tokenization;

public sealed class IncrementalDetokenizerTests
{
    private static readonly Lazy<ITokenizer> s_tok = new(() => TokenizerLoader.Load(RepoPaths.Stories260K));

    private static ITokenizer Tok => s_tok.Value;

    private static int Id(string token) => Tok.TokenToId(token) ?? throw new ArgumentException(token);

    [Fact]
    public void MultiByteCharacterSplitOverByteTokensIsHeldUntilComplete()
    {
        // "中" is <0xE4><0xB8><0xAD>: nothing may come out until the third byte arrives.
        var detok = new IncrementalDetokenizer(Tok, Tok.Encode("Hi"));
        Assert.Equal(" ", detok.Add(Id("▁")));
        Assert.Equal("", detok.Add(Id("<0xE4>")));
        Assert.Equal("", detok.Add(Id("<0xB8>")));
        Assert.Equal("中", detok.Add(Id("<0xAD>")));
        // A four-byte emoji 🙂 = F0 9F 99 82.
        Assert.Equal("", detok.Add(Id("<0xF0>")));
        Assert.Equal("", detok.Add(Id("<0x9F>")));
        Assert.Equal("", detok.Add(Id("<0x99>")));
        Assert.Equal("🙂", detok.Add(Id("<0x82>")));
        Assert.Equal("", detok.Flush());
        Assert.Equal(" 中🙂", detok.Text);
    }

    [Fact]
    public void IncompleteCharacterAtTheEndComesOutOnFlush()
    {
        var detok = new IncrementalDetokenizer(Tok, Tok.Encode("Hi"));
        Assert.Equal("", detok.Add(Id("<0xE4>")));
        Assert.Equal("", detok.Add(Id("<0xB8>")));
        string flushed = detok.Flush();
        Assert.Equal(Tok.Decode([.. Tok.Encode("Hi"), Id("<0xE4>"), Id("<0xB8>")])[2..], flushed);
        Assert.Contains('\uFFFD', flushed);
    }

    [Fact]
    public void FirstOutputAfterBosOnlyPromptLosesItsLeadingSpaceLikeFullDecode()
    {
        var detok = new IncrementalDetokenizer(Tok, [1]);
        Assert.Equal("Once", detok.Add(Id("▁Once")));
        Assert.Equal(" upon", string.Concat(Tok.Encode(" upon", addSpecialTokens: false).Skip(1).Select(detok.Add)));
    }

    [Fact]
    public void SpecialTokensMidStreamKeepTheSpaceOfTheNextWord()
    {
        int[] prompt = Tok.Encode("Once upon");
        int[] gen = [Id("▁a"), 2, 1, 2, 1, 1, 1, 1, 1, 1, Id("▁time")];
        AssertStreamsLikeFullDecode(prompt, gen, skipSpecialTokens: true);
        AssertStreamsLikeFullDecode(prompt, gen, skipSpecialTokens: false);
        AssertStreamsLikeFullDecode([1, 1, 1, 1, 1, 1, 1, 1], gen, skipSpecialTokens: true);
        // The first window then holds only skipped specials although text precedes it.
        AssertStreamsLikeFullDecode([.. prompt, 2, 1, 1, 1, 1, 1], gen, skipSpecialTokens: true);
    }

    [Fact]
    public void PromptEndingInsideAMultiByteCharacterWindow()
    {
        // The first window starts five tokens back, which here is in the middle of 中's bytes.
        int[] prompt = Tok.Encode("x 中中");
        AssertStreamsLikeFullDecode(prompt, Tok.Encode(" 文 is text", addSpecialTokens: false), skipSpecialTokens: true);
        // Output bytes that continue the prompt's byte run: decoded alone, the run would turn into U+FFFDs.
        int[] wen = Tok.Encode("文", addSpecialTokens: false)[1..];
        AssertStreamsLikeFullDecode(prompt, [.. wen, Id("▁the")], skipSpecialTokens: true);
    }

    [Fact]
    public void RandomValidSequencesStreamLikeFullDecode()
    {
        // Sequences of whole tokens and of valid UTF-8 characters spelled as byte tokens, with specials.
        var random = new Random(1234);
        string[] pieces = ["é", "中", "🙂", "\n", "a", "€"];
        for (int trial = 0; trial < 200; trial++)
        {
            var ids = new List<int>();
            // Prompts end on a character boundary: otherwise decode(prompt) is not a prefix of the whole decode.
            var boundaries = new List<int> { 0 };
            int length = random.Next(1, 40);
            while (ids.Count < length)
            {
                boundaries.Add(ids.Count);
                switch (random.Next(6))
                {
                    case 0:
                        ids.AddRange(System.Text.Encoding.UTF8.GetBytes(pieces[random.Next(pieces.Length)]).Select(b => Id($"<0x{b:X2}>")));
                        break;
                    case 1:
                        ids.Add(random.Next(3));
                        break;
                    default:
                        ids.Add(random.Next(259, Tok.VocabSize));
                        break;
                }
            }
            boundaries.Add(ids.Count);
            int split = boundaries[random.Next(boundaries.Count)];
            bool skip = random.Next(2) == 0;
            AssertStreamsLikeFullDecode(ids.Take(split).ToArray(), ids.Skip(split).ToArray(), skip);
        }
    }

    private static void AssertStreamsLikeFullDecode(int[] prompt, int[] gen, bool skipSpecialTokens)
    {
        string promptText = Tok.Decode(prompt, skipSpecialTokens);
        string whole = Tok.Decode([.. prompt, .. gen], skipSpecialTokens);
        Assert.StartsWith(promptText, whole, StringComparison.Ordinal);

        var detok = new IncrementalDetokenizer(Tok, prompt, skipSpecialTokens);
        var deltas = new List<string>();
        foreach (int id in gen)
        {
            string delta = detok.Add(id);
            Assert.DoesNotContain('\uFFFD', delta);
            deltas.Add(delta);
        }
        deltas.Add(detok.Flush());
        Assert.Equal(whole[promptText.Length..], string.Concat(deltas));
        Assert.Equal(whole[promptText.Length..], detok.Text);
    }
}
