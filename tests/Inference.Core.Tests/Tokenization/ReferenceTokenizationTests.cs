using Inference.Tokenization;

namespace Inference.Tests.Tokenization;

public sealed class ReferenceTokenizationTests
{
    private static readonly Lazy<ITokenizer> s_tok = new(() => TokenizerLoader.Load(RepoPaths.Stories260K));

    private static ITokenizer Tok => s_tok.Value;

    [Theory]
    [MemberData(nameof(Stories260KReference.GreedyIndices), MemberType = typeof(Stories260KReference))]
    public void EncodesPromptLikeReference(int index)
    {
        var c = Stories260KReference.Greedy().ElementAt(index);
        Assert.Equal(c.PromptTokenIds, Tok.Encode(c.Prompt));
        Assert.Equal(c.PromptTokenIds[1..], Tok.Encode(c.Prompt, addSpecialTokens: false));
    }

    [Fact]
    public void EncodesReferenceTexts()
    {
        foreach (var c in Stories260KReference.Encodes())
            Assert.Equal(c.Ids, Tok.Encode(c.Text));
    }

    [Theory]
    [MemberData(nameof(Stories260KReference.GreedyIndices), MemberType = typeof(Stories260KReference))]
    public void CompletionIsDecodeOfWholeMinusDecodeOfPrompt(int index)
    {
        var c = Stories260KReference.Greedy().ElementAt(index);
        string prompt = Tok.Decode(c.PromptTokenIds);
        string whole = Tok.Decode([.. c.PromptTokenIds, .. c.GeneratedTokenIds]);
        Assert.Equal(c.Prompt, prompt);
        Assert.StartsWith(prompt, whole, StringComparison.Ordinal);
        Assert.Equal(c.Completion, whole[prompt.Length..]);
    }

    [Theory]
    [MemberData(nameof(Stories260KReference.GreedyIndices), MemberType = typeof(Stories260KReference))]
    public void StreamedDeltasConcatenateToCompletion(int index)
    {
        var c = Stories260KReference.Greedy().ElementAt(index);
        var detok = new IncrementalDetokenizer(Tok, c.PromptTokenIds);
        string streamed = string.Concat(c.GeneratedTokenIds.Select(detok.Add)) + detok.Flush();
        Assert.Equal(c.Completion, streamed);
        Assert.Equal(c.Completion, detok.Text);
    }
}
