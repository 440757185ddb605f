using System.Globalization;
using System.Text.Json;
using Inference.Sampling;
using Inference.Server.Errors;

namespace Inference.Server.Requests;

/// <summary>The sampling fields that completions and chat completions share, OpenAI's plus vLLM's extensions.</summary>
public static class SamplingReader
{
    /// <summary>Reads every shared field; max_tokens and logprobs differ per endpoint and are passed in.</summary>
    public static SamplingParams Read(RequestReader r, ServedModel model, int maxTokens, int? logprobs)
    {
        var d = model.Engine.Model.Defaults;
        r.String("user"); // accepted for compatibility, but it must still be a string
        var p = new SamplingParams
        {
            // As in vLLM, a field the request leaves out falls back to generation_config.json.
            Temperature = r.Float("temperature", 0, 2) ?? d.Temperature ?? 1f,
            TopP = r.Float("top_p", 0, 1) ?? d.TopP ?? 1f,
            TopK = r.Int("top_k", -1, int.MaxValue) ?? d.TopK ?? 0,
            MinP = r.Float("min_p", 0, 1) ?? 0f,
            PresencePenalty = r.Float("presence_penalty", -2, 2) ?? 0f,
            FrequencyPenalty = r.Float("frequency_penalty", -2, 2) ?? 0f,
            RepetitionPenalty = r.Float("repetition_penalty", 0, 10) ?? d.RepetitionPenalty ?? 1f,
            Seed = r.Long("seed") is { } s ? unchecked((ulong)s) : null,
            MaxTokens = maxTokens,
            MinTokens = r.Int("min_tokens", 0, maxTokens) ?? 0,
            Stop = r.StringOrList("stop", 64),
            StopTokenIds = TokenIds(r, "stop_token_ids", model),
            IgnoreEos = r.Bool("ignore_eos") ?? false,
            Logprobs = logprobs,
            N = r.Int("n", 1, 128) ?? 1,
            LogitBias = LogitBias(r, model),
            SkipSpecialTokens = r.Bool("skip_special_tokens") ?? true,
        };
        try
        {
            p.Validate();
        }
        catch (InferenceException e)
        {
            throw OpenAiException.BadRequest(e.Message);
        }
        return p;
    }

    /// <summary>
    /// Resolves max_tokens against the context: an explicit value that does not fit is a 400, a default is
    /// shortened to what is left of the context (at least 1).
    /// </summary>
    public static int MaxTokens(long? requested, string param, int? defaultMax, IReadOnlyList<int[]> prompts, ServedModel model)
    {
        int longest = prompts.Max(p => p.Length);
        int ctx = model.MaxModelLen;
        if (longest >= ctx)
            throw OpenAiException.BadRequest(
                $"This model's maximum context length is {ctx} tokens. However, your prompt has {longest} tokens, which leaves no room for a completion. Please reduce the length of the prompt.", "prompt");
        if (requested is { } m)
        {
            if (m < 1) throw OpenAiException.BadRequest($"'{param}' must be at least 1, got {m}", param);
            if (longest + m > ctx)
                throw OpenAiException.BadRequest(
                    $"This model's maximum context length is {ctx} tokens. However, you requested {longest + m} tokens ({longest} in the prompt, {m} in the completion). Please reduce the length of the prompt or completion.", param);
            return CheckKvPool((int)m, longest, model);
        }
        return CheckKvPool(Math.Min(defaultMax ?? int.MaxValue, ctx - longest), longest, model);
    }

    // A request bigger than the whole KV pool could never run; say so now rather than fail it in the engine.
    private static int CheckKvPool(int maxTokens, int promptLen, ServedModel model)
    {
        var e = model.Engine;
        long blocks = (promptLen + (long)maxTokens + e.Options.BlockSize - 1) / e.Options.BlockSize;
        if (blocks > e.NumBlocks - 1)
            throw OpenAiException.BadRequest(
                $"the prompt ({promptLen} tokens) plus max_tokens ({maxTokens}) needs {blocks} KV-cache blocks, but the server's pool has {e.NumBlocks - 1}; ask for fewer tokens", "max_tokens");
        return maxTokens;
    }

    private static IReadOnlyList<int> TokenIds(RequestReader r, string name, ServedModel model)
    {
        if (r.Get(name) is not { } v) return [];
        if (v.ValueKind != JsonValueKind.Array) throw RequestReader.WrongType(name, "an array of token ids", v);
        var ids = new List<int>();
        foreach (var item in v.EnumerateArray())
            ids.Add(TokenId(item, name, model));
        return ids;
    }

    /// <summary>One token id, checked against the vocabulary.</summary>
    public static int TokenId(JsonElement item, string name, ServedModel model)
    {
        int vocab = model.Engine.Model.Config.VocabSize;
        if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt32(out int id))
            throw RequestReader.WrongType(name, "token ids (integers)", item);
        if ((uint)id >= (uint)vocab)
            throw OpenAiException.BadRequest($"'{name}' holds token id {id}, outside the vocabulary [0, {vocab})", name);
        return id;
    }

    private static Dictionary<int, float>? LogitBias(RequestReader r, ServedModel model)
    {
        if (r.Get("logit_bias") is not { } v) return null;
        if (v.ValueKind != JsonValueKind.Object) throw RequestReader.WrongType("logit_bias", "an object mapping token ids to biases", v);
        int vocab = model.Engine.Model.Config.VocabSize;
        var bias = new Dictionary<int, float>();
        foreach (var prop in v.EnumerateObject())
        {
            if (!int.TryParse(prop.Name, NumberStyles.None, CultureInfo.InvariantCulture, out int id) || id >= vocab)
                throw OpenAiException.BadRequest($"'logit_bias' key '{prop.Name}' is not a token id in [0, {vocab})", "logit_bias");
            if (prop.Value.ValueKind != JsonValueKind.Number || !prop.Value.TryGetDouble(out double b) || b < -100 || b > 100)
                throw OpenAiException.BadRequest($"'logit_bias' value for token {prop.Name} must be a number in [-100, 100], got {prop.Value.GetRawText()}", "logit_bias");
            bias[id] = (float)b;
        }
        return bias;
    }
}
