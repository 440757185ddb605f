using System.Text;

namespace Inference.Tokenization;

/// <summary>
/// Turns a growing list of token ids into text deltas whose concatenation is decode(prompt + output) minus
/// decode(prompt); never emits a broken UTF-8 sequence (U+FFFD) for a character that is still incomplete.
/// </summary>
/// <remarks>
/// vLLM's prefix_offset/read_offset scheme: decode a short window that starts before the last emitted token
/// and emit what it adds beyond the already-emitted part of the window. The window start is chosen so that
/// decoding the window agrees with decoding the whole sequence: it never starts inside a run of byte-fallback
/// tokens of one character (HF's ByteFallback decodes a run all-or-nothing), and it never consists only of
/// skipped special tokens when text precedes it (decoders strip the leading space of the first token only).
/// </remarks>
public sealed class IncrementalDetokenizer
{
    // As in vLLM: how many prompt tokens to decode along with the first output token.
    private const int InitialWindow = 5;

    private readonly ITokenizer _tok;
    private readonly bool _skipSpecialTokens;
    private readonly List<int> _ids;
    private readonly StringBuilder _text = new();
    private int _prefixOffset;
    private int _readOffset;

    public IncrementalDetokenizer(ITokenizer tok, IReadOnlyList<int> promptIds, bool skipSpecialTokens = true)
    {
        ArgumentNullException.ThrowIfNull(tok);
        ArgumentNullException.ThrowIfNull(promptIds);
        _tok = tok;
        _skipSpecialTokens = skipSpecialTokens;
        _ids = new List<int>(promptIds);
        _readOffset = _ids.Count;
        _prefixOffset = SafeWindowStart(Math.Max(_readOffset - InitialWindow, 0), _readOffset);
    }

    /// <summary>All text emitted so far.</summary>
    public string Text => _text.ToString();

    /// <summary>Appends one generated token and returns the text it completes (possibly "").</summary>
    public string Add(int tokenId)
    {
        _ids.Add(tokenId);
        return Emit(final: false);
    }

    /// <summary>Returns whatever is still held back (e.g. an incomplete character at the end of generation).</summary>
    public string Flush() => _readOffset < _ids.Count ? Emit(final: true) : "";

    private string Emit(bool final)
    {
        var ids = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_ids);
        string prefixText = _tok.Decode(ids[_prefixOffset.._readOffset], _skipSpecialTokens);
        string newText = _tok.Decode(ids[_prefixOffset..], _skipSpecialTokens);
        // A trailing U+FFFD means the last bytes do not form a character yet; wait for more tokens.
        if (newText.Length <= prefixText.Length || (!final && newText.EndsWith('\uFFFD')))
        {
            if (final)
                _readOffset = _ids.Count;
            return "";
        }

        string delta = newText[prefixText.Length..];
        _prefixOffset = SafeWindowStart(_readOffset, _ids.Count);
        _readOffset = _ids.Count;
        _text.Append(delta);
        return delta;
    }

    /// <summary>Moves a window start back until decoding ids[start..end] agrees with the whole-sequence decode.</summary>
    private int SafeWindowStart(int start, int end)
    {
        while (true)
        {
            int moved = start;
            while (moved > 0 && IsContinuationByte(_ids[moved]))
                moved--;
            if (_skipSpecialTokens && moved > 0 && OnlySpecialBetween(moved, end))
            {
                moved--;
                while (moved > 0 && _tok.IsSpecial(_ids[moved]))
                    moved--;
            }
            if (moved == start)
                return start;
            start = moved;
        }
    }

    private bool OnlySpecialBetween(int from, int to)
    {
        for (int i = from; i < to; i++)
        {
            if (!_tok.IsSpecial(_ids[i]))
                return false;
        }
        return true;
    }

    // A byte-fallback token <0x80>..<0xBF> continues a multi-byte character started by an earlier token.
    private bool IsContinuationByte(int id) =>
        _tok.IdToToken(id) is { Length: 6 } t && t.StartsWith("<0x", StringComparison.Ordinal) && t[5] == '>'
        && byte.TryParse(t.AsSpan(3, 2), System.Globalization.NumberStyles.AllowHexSpecifier, null, out byte b)
        && (b & 0xC0) == 0x80;
}
