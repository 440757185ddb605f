namespace Inference.Sampling;

/// <summary>Per-request decoding settings (OpenAI names plus vLLM's extensions).</summary>
public sealed record SamplingParams
{
    /// <summary>0 means greedy.</summary>
    public float Temperature { get; init; } = 1.0f;
    public float TopP { get; init; } = 1.0f;
    /// <summary>0 or negative disables top-k.</summary>
    public int TopK { get; init; }
    public float MinP { get; init; }
    public float PresencePenalty { get; init; }
    public float FrequencyPenalty { get; init; }
    /// <summary>1 disables; applies to prompt and generated tokens as in vLLM / HF.</summary>
    public float RepetitionPenalty { get; init; } = 1.0f;
    /// <summary>Seed for this request's own generator; null draws one at random.</summary>
    public ulong? Seed { get; init; }
    public int MaxTokens { get; init; } = 16;
    public int MinTokens { get; init; }
    public IReadOnlyList<string> Stop { get; init; } = [];
    public IReadOnlyList<int> StopTokenIds { get; init; } = [];
    public bool IgnoreEos { get; init; }
    /// <summary>Number of top alternatives to return per token; null returns no logprobs.</summary>
    public int? Logprobs { get; init; }
    /// <summary>Number of prompt logprobs; null returns none.</summary>
    public int? PromptLogprobs { get; init; }
    public int N { get; init; } = 1;
    public IReadOnlyDictionary<int, float>? LogitBias { get; init; }
    public bool SkipSpecialTokens { get; init; } = true;

    public bool IsGreedy => Temperature <= 0f;

    public static SamplingParams Greedy(int maxTokens) => new() { Temperature = 0f, MaxTokens = maxTokens };

    /// <summary>Throws <see cref="InferenceException"/> naming the first out-of-range value.</summary>
    public void Validate()
    {
        if (!(Temperature >= 0f) || float.IsInfinity(Temperature)) throw new InferenceException($"temperature must be >= 0, got {Temperature}");
        if (!(TopP > 0f && TopP <= 1f)) throw new InferenceException($"top_p must be in (0, 1], got {TopP}");
        if (TopK < -1) throw new InferenceException($"top_k must be -1 (disable) or >= 1, got {TopK}");
        if (!(MinP >= 0f && MinP <= 1f)) throw new InferenceException($"min_p must be in [0, 1], got {MinP}");
        if (!(PresencePenalty >= -2f && PresencePenalty <= 2f)) throw new InferenceException($"presence_penalty must be in [-2, 2], got {PresencePenalty}");
        if (!(FrequencyPenalty >= -2f && FrequencyPenalty <= 2f)) throw new InferenceException($"frequency_penalty must be in [-2, 2], got {FrequencyPenalty}");
        if (!(RepetitionPenalty > 0f && RepetitionPenalty <= 10f)) throw new InferenceException($"repetition_penalty must be in (0, 10], got {RepetitionPenalty}");
        if (MaxTokens < 1) throw new InferenceException($"max_tokens must be >= 1, got {MaxTokens}");
        if (MinTokens < 0 || MinTokens > MaxTokens) throw new InferenceException($"min_tokens must be in [0, max_tokens], got {MinTokens}");
        if (N < 1 || N > 128) throw new InferenceException($"n must be in [1, 128], got {N}");
        if (Logprobs is < 0 or > 20) throw new InferenceException($"logprobs must be in [0, 20], got {Logprobs}");
        if (PromptLogprobs is < 0 or > 20) throw new InferenceException($"prompt_logprobs must be in [0, 20], got {PromptLogprobs}");
        foreach (var s in Stop)
            if (string.IsNullOrEmpty(s)) throw new InferenceException("stop strings must not be empty");
    }
}
