using System.Text.Json.Nodes;
using Inference.Execution;
using Inference.Server.Generation;
using Inference.Tokenization;

namespace Inference.Server.OpenAi;

/// <summary>Completions' logprobs object: tokens, token_logprobs, top_logprobs (dicts), text_offset.</summary>
public sealed class LegacyLogprobs(ITokenizer tokenizer, int[] promptTokenIds, int textOffset)
{
    private readonly TokenTexts _texts = new(tokenizer, promptTokenIds);
    private int _offset = textOffset;
    private JsonArray _tokens = [], _logprobs = [], _top = [], _offsets = [];

    public void Add(TokenLogprobs lp)
    {
        string text = _texts.Of(lp.TokenId);
        _tokens.Add(text);
        _logprobs.Add(Finite(lp.Logprob));
        var top = new JsonObject();
        foreach (var (id, logprob) in lp.Top)
            top[_texts.Of(id)] = Finite(logprob);
        // As in vLLM, the chosen token is always among the alternatives.
        top[text] = Finite(lp.Logprob);
        _top.Add(top);
        _offsets.Add(_offset);
        _offset += text.Length;
        _texts.Advance(lp.TokenId);
    }

    /// <summary>The object for what was added since the last call (the whole choice, or one stream chunk).</summary>
    public JsonObject Take()
    {
        var o = new JsonObject { ["tokens"] = _tokens, ["token_logprobs"] = _logprobs, ["top_logprobs"] = _top, ["text_offset"] = _offsets };
        _tokens = [];
        _logprobs = [];
        _top = [];
        _offsets = [];
        return o;
    }

    // JSON has no -Infinity; vLLM writes -9999.0 for a token the distribution rules out.
    internal static float Finite(float logprob) => float.IsFinite(logprob) ? logprob : -9999f;
}
