namespace Inference.Scheduling;

/// <summary>Limits for continuous batching and the size of the KV cache the scheduler hands out.</summary>
public sealed record SchedulerConfig
{
    /// <summary>Token budget of one step, prefill chunks and decodes together.</summary>
    public int MaxNumBatchedTokens { get; init; } = 2048;

    /// <summary>Most requests running (holding KV blocks) at once.</summary>
    public int MaxNumSeqs { get; init; } = 64;

    /// <summary>Tokens per KV block.</summary>
    public int BlockSize { get; init; } = 16;

    /// <summary>KV blocks in the pool, including the reserved null block 0.</summary>
    public required int NumBlocks { get; init; }

    public required int MaxModelLen { get; init; }

    public bool EnablePrefixCaching { get; init; } = true;

    /// <summary>When > 0, at most this many prompt tokens of one request per step, so one long prompt cannot take the
    /// whole budget and stall everyone's decode. 0 disables.</summary>
    public int LongPrefillTokenThreshold { get; init; }

    /// <summary>Waiting-queue length at which the server answers 429; -1 is unlimited.</summary>
    public int MaxWaiting { get; init; } = -1;

    /// <summary>Hold back a waiting request whose prompt shares full blocks with a running request still computing
    /// them, until they are cached (see <see cref="Scheduler"/>); this is what makes n &gt; 1 samples share a prompt.</summary>
    public bool DeferSharedPrefixes { get; init; } = true;

    /// <summary>Throws <see cref="InferenceException"/> naming the first bad value.</summary>
    public void Validate()
    {
        if (MaxNumBatchedTokens < 1) throw new InferenceException($"max_num_batched_tokens must be >= 1, got {MaxNumBatchedTokens}");
        if (MaxNumSeqs < 1) throw new InferenceException($"max_num_seqs must be >= 1, got {MaxNumSeqs}");
        if (BlockSize < 1) throw new InferenceException($"block_size must be >= 1, got {BlockSize}");
        if (NumBlocks < 2) throw new InferenceException($"the KV cache needs at least 2 blocks (one is reserved), got {NumBlocks}");
        if (MaxModelLen < 1) throw new InferenceException($"max_model_len must be >= 1, got {MaxModelLen}");
        if (LongPrefillTokenThreshold < 0) throw new InferenceException($"long_prefill_token_threshold must be >= 0, got {LongPrefillTokenThreshold}");
        if (MaxWaiting < -1) throw new InferenceException($"max_waiting must be -1 (unlimited) or >= 0, got {MaxWaiting}");
    }
}
