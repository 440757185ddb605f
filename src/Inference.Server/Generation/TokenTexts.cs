using Inference.Tokenization;

namespace Inference.Server.Generation;

/// <summary>
/// The text each token adds after the tokens before it, for logprobs: decoding a token alone would lose
/// SentencePiece's leading space, so it is decoded after a short window of its context instead (as vLLM does).
/// </summary>
public sealed class TokenTexts(ITokenizer tokenizer, IReadOnlyList<int> promptTokenIds)
{
    private const int Window = 4;
    private readonly List<int> _context = [.. promptTokenIds.Skip(Math.Max(0, promptTokenIds.Count - Window))];

    /// <summary>The text <paramref name="tokenId"/> would add if it came next.</summary>
    public string Of(int tokenId)
    {
        int start = Math.Max(0, _context.Count - Window);
        var window = _context.GetRange(start, _context.Count - start);
        string before = tokenizer.Decode(window.ToArray(), skipSpecialTokens: false);
        window.Add(tokenId);
        string after = tokenizer.Decode(window.ToArray(), skipSpecialTokens: false);
        return after.StartsWith(before, StringComparison.Ordinal) ? after[before.Length..] : tokenizer.Decode([tokenId], skipSpecialTokens: false);
    }

    /// <summary>Moves past a token that was chosen.</summary>
    public void Advance(int tokenId)
    {
        _context.Add(tokenId);
        if (_context.Count > 4 * Window) _context.RemoveRange(0, _context.Count - Window);
    }
}
