using Inference.Server.Generation;
using Inference.Server.Requests;
using Inference.Server.Sse;

namespace Inference.Server.OpenAi;

/// <summary>Streams a completion request as text_completion chunks.</summary>
public static class CompletionStream
{
    public static async Task RunAsync(SseWriter sse, ServedModel model, CompletionRequest req, CancellationToken ct)
    {
        var h = CompletionResponses.Header(model.Name);
        int n = req.Sampling.N;
        int choices = req.Prompts.Count * n;
        bool usage = req.Streaming.IncludeUsage;
        var completionTokens = new int[choices];
        var echoed = new bool[choices];
        var logprobs = req.Logprobs is null ? null : new LegacyLogprobs?[choices];
        var prompts = req.Prompts.Select(p => p.TokenIds).ToArray();
        await foreach (var e in GenerationRunner.StreamAsync(model.Engine, h.Id, prompts, req.Sampling, ct))
        {
            var o = e.Output;
            if (o.Error is { } error) throw new GenerationFailedException(error);
            int index = e.PromptIndex * n + o.Index;
            string text = o.TextDelta;
            if (req.Echo && !echoed[index])
            {
                echoed[index] = true;
                text = req.Prompts[e.PromptIndex].Text + text;
            }
            System.Text.Json.Nodes.JsonObject? lp = null;
            if (logprobs is not null && o.Logprobs is { Count: > 0 } list)
            {
                var b = logprobs[index] ??= new LegacyLogprobs(model.Tokenizer, prompts[e.PromptIndex], 0);
                foreach (var x in list) b.Add(x);
                lp = b.Take();
            }
            completionTokens[index] = o.CompletionTokens;
            if (text.Length == 0 && lp is null && !o.Finished) continue;
            await sse.WriteAsync(CompletionResponses.Chunk(h, index, text, lp, o.Finished ? FinishReasons.ToOpenAi(o.FinishReason) : null, usage));
        }
        if (usage) await sse.WriteAsync(h.UsageChunk(prompts.Sum(p => p.Length), completionTokens.Sum()));
        await sse.WriteDoneAsync();
    }
}
