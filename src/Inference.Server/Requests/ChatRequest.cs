using System.Text.Json;
using Inference.Sampling;
using Inference.Server.Errors;

namespace Inference.Server.Requests;

/// <summary>A parsed, validated POST /v1/chat/completions body.</summary>
public sealed record ChatRequest
{
    public required PromptInput Prompt { get; init; }
    public required SamplingParams Sampling { get; init; }
    public required StreamSettings Streaming { get; init; }
    /// <summary>True when the client asked for logprobs (chat format); Sampling.Logprobs is then top_logprobs.</summary>
    public bool Logprobs { get; init; }

    public static ChatRequest Parse(JsonElement body, ServedModel model)
    {
        var r = new RequestReader(body);
        model.CheckModelName(r.String("model"));
        string text = ChatPrompt.Render(r, model, r.Bool("add_generation_prompt") ?? true);
        var prompt = new PromptInput(ChatPrompt.Encode(text, model), text);
        bool logprobs = r.Bool("logprobs") ?? false;
        int? top = r.Int("top_logprobs", 0, 20);
        if (top is not null && !logprobs) throw OpenAiException.BadRequest("'top_logprobs' needs 'logprobs': true", "top_logprobs");
        // max_completion_tokens replaced max_tokens in OpenAI's API; the newer one wins when both are given.
        long? max = r.Long("max_completion_tokens");
        string param = "max_completion_tokens";
        if (max is null)
        {
            max = r.Long("max_tokens");
            param = "max_tokens";
        }
        int maxTokens = SamplingReader.MaxTokens(max, param, null, [prompt.TokenIds], model);
        return new ChatRequest
        {
            Prompt = prompt,
            Sampling = SamplingReader.Read(r, model, maxTokens, logprobs ? top ?? 0 : null),
            Streaming = StreamSettings.Read(r),
            Logprobs = logprobs,
        };
    }
}
