using System.Text.Json.Nodes;
using Inference.Server.Generation;
using Inference.Server.Requests;
using Inference.Tokenization;

namespace Inference.Server.OpenAi;

/// <summary>Builds text_completion bodies and stream chunks.</summary>
public static class CompletionResponses
{
    public static ResponseHeader Header(string model) => ResponseHeader.New("cmpl-", "text_completion", model);

    public static JsonObject Build(ResponseHeader h, CompletionRequest req, GenerationResult result, ITokenizer tokenizer)
    {
        var choices = new JsonArray();
        foreach (var c in result.Choices)
        {
            string echo = req.Echo ? req.Prompts[c.Index / req.Sampling.N].Text : "";
            JsonObject? logprobs = null;
            if (req.Logprobs is not null)
            {
                var builder = new LegacyLogprobs(tokenizer, c.PromptTokenIds, echo.Length);
                foreach (var lp in c.Logprobs) builder.Add(lp);
                logprobs = builder.Take();
            }
            choices.Add(Choice(c.Index, echo + c.Text, logprobs, FinishReasons.ToOpenAi(c.FinishReason)));
        }
        var o = h.Start();
        o["choices"] = choices;
        o["usage"] = Usage.Json(result.PromptTokens, result.CompletionTokens);
        return o;
    }

    public static JsonObject Chunk(ResponseHeader h, int index, string text, JsonObject? logprobs, string? finishReason, bool includeUsage)
    {
        var o = h.Start();
        o["choices"] = new JsonArray(Choice(index, text, logprobs, finishReason));
        if (includeUsage) o["usage"] = null;
        return o;
    }

    private static JsonObject Choice(int index, string text, JsonObject? logprobs, string? finishReason) => new()
    {
        ["index"] = index,
        ["text"] = text,
        ["logprobs"] = logprobs,
        ["finish_reason"] = finishReason,
    };
}
