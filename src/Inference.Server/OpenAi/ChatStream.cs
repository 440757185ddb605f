using System.Text.Json.Nodes;
using Inference.Server.Generation;
using Inference.Server.Requests;
using Inference.Server.Sse;

namespace Inference.Server.OpenAi;

/// <summary>Streams a chat request as chat.completion.chunk events: role first, then content, then finish_reason.</summary>
public static class ChatStream
{
    public static async Task RunAsync(SseWriter sse, ServedModel model, ChatRequest req, CancellationToken ct)
    {
        var h = ChatResponses.ChunkHeader(ChatResponses.Header(model.Name));
        int n = req.Sampling.N;
        bool usage = req.Streaming.IncludeUsage;
        var completionTokens = new int[n];
        var logprobs = req.Logprobs ? new ChatLogprobs?[n] : null;
        int[] prompt = req.Prompt.TokenIds;
        for (int i = 0; i < n; i++)
            await sse.WriteAsync(ChatResponses.RoleChunk(h, i, usage));
        await foreach (var e in GenerationRunner.StreamAsync(model.Engine, h.Id, [prompt], req.Sampling, ct))
        {
            var o = e.Output;
            if (o.Error is { } error) throw new GenerationFailedException(error);
            JsonObject? lp = null;
            if (logprobs is not null && o.Logprobs is { Count: > 0 } list)
            {
                var b = logprobs[o.Index] ??= new ChatLogprobs(model.Tokenizer, prompt);
                foreach (var x in list) b.Add(x);
                lp = b.Take();
            }
            completionTokens[o.Index] = o.CompletionTokens;
            if (o.TextDelta.Length == 0 && lp is null && !o.Finished) continue;
            await sse.WriteAsync(ChatResponses.ContentChunk(h, o.Index, o.TextDelta, lp, o.Finished ? FinishReasons.ToOpenAi(o.FinishReason) : null, usage));
        }
        if (usage) await sse.WriteAsync(h.UsageChunk(prompt.Length, completionTokens.Sum()));
        await sse.WriteDoneAsync();
    }
}
