using System.Text;
using System.Text.Json.Nodes;
using Inference.Execution;
using Inference.Server.Generation;
using Inference.Tokenization;

namespace Inference.Server.OpenAi;

/// <summary>Chat's logprobs object: {"content": [{token, logprob, bytes, top_logprobs: [{token, logprob, bytes}]}]}.</summary>
public sealed class ChatLogprobs(ITokenizer tokenizer, int[] promptTokenIds)
{
    private readonly TokenTexts _texts = new(tokenizer, promptTokenIds);
    private JsonArray _content = [];

    public void Add(TokenLogprobs lp)
    {
        var top = new JsonArray();
        foreach (var (id, logprob) in lp.Top)
            top.Add(Entry(_texts.Of(id), logprob));
        var entry = Entry(_texts.Of(lp.TokenId), lp.Logprob);
        entry["top_logprobs"] = top;
        _content.Add(entry);
        _texts.Advance(lp.TokenId);
    }

    public JsonObject Take()
    {
        var o = new JsonObject { ["content"] = _content, ["refusal"] = null };
        _content = [];
        return o;
    }

    private static JsonObject Entry(string token, float logprob)
    {
        var bytes = new JsonArray();
        foreach (byte b in Encoding.UTF8.GetBytes(token)) bytes.Add(b);
        return new JsonObject { ["token"] = token, ["logprob"] = LegacyLogprobs.Finite(logprob), ["bytes"] = bytes };
    }
}
