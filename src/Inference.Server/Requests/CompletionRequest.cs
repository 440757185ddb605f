using System.Text.Json;
using Inference.Sampling;
using Inference.Server.Errors;

namespace Inference.Server.Requests;

/// <summary>A parsed, validated POST /v1/completions body.</summary>
public sealed record CompletionRequest
{
    public required IReadOnlyList<PromptInput> Prompts { get; init; }
    public required SamplingParams Sampling { get; init; }
    public required StreamSettings Streaming { get; init; }
    public bool Echo { get; init; }
    /// <summary>Legacy logprobs: how many alternatives per token, or null for none.</summary>
    public int? Logprobs { get; init; }

    private const int MaxPrompts = 1024;
    private const int MaxChoices = 1024;

    public static CompletionRequest Parse(JsonElement body, ServedModel model)
    {
        var r = new RequestReader(body);
        model.CheckModelName(r.String("model"));
        var prompts = ReadPrompts(r, model);
        int? logprobs = r.Int("logprobs", 0, 20);
        bool echo = r.Bool("echo") ?? false;
        // Prompt logprobs are not computed, so echo cannot return logprobs for the echoed part.
        if (echo && logprobs is not null)
            throw OpenAiException.BadRequest("'echo' together with 'logprobs' is not supported (prompt logprobs are not computed)", "echo");
        if (r.Get("suffix") is not null) throw OpenAiException.BadRequest("'suffix' is not supported", "suffix");
        if (r.Get("best_of") is { } bestOf && !(bestOf.ValueKind == JsonValueKind.Number && bestOf.TryGetInt32(out int b) && b == (r.Int("n", 1, 128) ?? 1)))
            throw OpenAiException.BadRequest("'best_of' other than n is not supported", "best_of");
        int maxTokens = SamplingReader.MaxTokens(r.Long("max_tokens"), "max_tokens", 16, prompts.Select(p => p.TokenIds).ToArray(), model);
        var sampling = SamplingReader.Read(r, model, maxTokens, logprobs);
        // One request must not flood the engine with sequences that starve everybody else.
        if (prompts.Count * sampling.N > MaxChoices)
            throw OpenAiException.BadRequest($"{prompts.Count} prompts times n={sampling.N} is {prompts.Count * sampling.N} choices; at most {MaxChoices} are allowed per request", "n");
        return new CompletionRequest
        {
            Prompts = prompts,
            Sampling = sampling,
            Streaming = StreamSettings.Read(r),
            Echo = echo,
            Logprobs = logprobs,
        };
    }

    /// <summary>prompt: a string, strings, token ids, or lists of token ids.</summary>
    private static List<PromptInput> ReadPrompts(RequestReader r, ServedModel model)
    {
        const string name = "prompt";
        if (r.Get(name) is not { } v) throw OpenAiException.BadRequest("'prompt' is required", name);
        var tok = model.Tokenizer;
        var prompts = new List<PromptInput>();
        switch (v.ValueKind)
        {
            case JsonValueKind.String:
                prompts.Add(FromText(v.GetString()!));
                break;
            case JsonValueKind.Array:
                if (v.GetArrayLength() == 0) throw OpenAiException.BadRequest("'prompt' must not be an empty array", name);
                var first = v[0].ValueKind;
                if (first == JsonValueKind.Number)
                {
                    prompts.Add(FromIds(v));
                    break;
                }
                foreach (var item in v.EnumerateArray())
                {
                    if (item.ValueKind != first || first is not (JsonValueKind.String or JsonValueKind.Array))
                        throw OpenAiException.BadRequest("'prompt' must be a string, an array of strings, an array of token ids, or an array of token-id arrays (not a mix)", name);
                    prompts.Add(first == JsonValueKind.String ? FromText(item.GetString()!) : FromIds(item));
                }
                break;
            default:
                throw RequestReader.WrongType(name, "a string, an array of strings or token ids", v);
        }
        if (prompts.Count > MaxPrompts) throw OpenAiException.BadRequest($"'prompt' may hold at most {MaxPrompts} prompts, got {prompts.Count}", name);
        return prompts;

        PromptInput FromText(string text) => new(tok.Encode(text, addSpecialTokens: true), text);

        PromptInput FromIds(JsonElement array)
        {
            if (array.GetArrayLength() == 0) throw OpenAiException.BadRequest("'prompt' holds an empty list of token ids", name);
            var ids = new int[array.GetArrayLength()];
            int i = 0;
            foreach (var item in array.EnumerateArray()) ids[i++] = SamplingReader.TokenId(item, name, model);
            return new PromptInput(ids, tok.Decode(ids, skipSpecialTokens: false));
        }
    }
}
