using System.Text.Json.Nodes;
using Inference.Server.Generation;
using Inference.Server.Requests;
using Inference.Tokenization;

namespace Inference.Server.OpenAi;

/// <summary>Builds chat.completion bodies and chat.completion.chunk stream chunks.</summary>
public static class ChatResponses
{
    public static ResponseHeader Header(string model) => ResponseHeader.New("chatcmpl-", "chat.completion", model);

    public static ResponseHeader ChunkHeader(ResponseHeader h) => h with { Object = "chat.completion.chunk" };

    public static JsonObject Build(ResponseHeader h, ChatRequest req, GenerationResult result, ITokenizer tokenizer)
    {
        var choices = new JsonArray();
        foreach (var c in result.Choices)
        {
            JsonObject? logprobs = null;
            if (req.Logprobs)
            {
                var builder = new ChatLogprobs(tokenizer, c.PromptTokenIds);
                foreach (var lp in c.Logprobs) builder.Add(lp);
                logprobs = builder.Take();
            }
            choices.Add(new JsonObject
            {
                ["index"] = c.Index,
                ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = c.Text },
                ["logprobs"] = logprobs,
                ["finish_reason"] = FinishReasons.ToOpenAi(c.FinishReason),
            });
        }
        var o = h.Start();
        o["choices"] = choices;
        o["usage"] = Usage.Json(result.PromptTokens, result.CompletionTokens);
        return o;
    }

    /// <summary>The first chunk of a choice: the role, with empty content as OpenAI sends it.</summary>
    public static JsonObject RoleChunk(ResponseHeader chunk, int index, bool includeUsage) =>
        Chunk(chunk, index, new JsonObject { ["role"] = "assistant", ["content"] = "" }, null, null, includeUsage);

    public static JsonObject ContentChunk(ResponseHeader chunk, int index, string text, JsonObject? logprobs, string? finishReason, bool includeUsage) =>
        Chunk(chunk, index, text.Length > 0 || finishReason is null ? new JsonObject { ["content"] = text } : new JsonObject(), logprobs, finishReason, includeUsage);

    private static JsonObject Chunk(ResponseHeader chunk, int index, JsonObject delta, JsonObject? logprobs, string? finishReason, bool includeUsage)
    {
        var o = chunk.Start();
        o["choices"] = new JsonArray(new JsonObject
        {
            ["index"] = index,
            ["delta"] = delta,
            ["logprobs"] = logprobs,
            ["finish_reason"] = finishReason,
        });
        if (includeUsage) o["usage"] = null;
        return o;
    }
}
