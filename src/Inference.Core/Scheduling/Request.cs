using System.Diagnostics;
using System.Runtime.InteropServices;
using Inference.Sampling;

namespace Inference.Scheduling;

/// <summary>One sequence moving through the scheduler: its tokens, its progress through the KV cache and its outcome.</summary>
/// <remarks>
/// Not thread-safe: only the engine loop touches a request once it has been added to the scheduler.
/// Tokens are append-only (prompt, then sampled output), which is what lets block hashes be cached.
/// </remarks>
public sealed class Request
{
    public Request(string id, int[] promptTokenIds, SamplingParams samplingParams, long? arrivalTimestamp = null)
    {
        ArgumentNullException.ThrowIfNull(id);
        ArgumentNullException.ThrowIfNull(promptTokenIds);
        ArgumentNullException.ThrowIfNull(samplingParams);
        Id = id;
        PromptTokenIds = promptTokenIds;
        SamplingParams = samplingParams;
        ArrivalTimestamp = arrivalTimestamp ?? Stopwatch.GetTimestamp();
    }

    public string Id { get; }

    public int[] PromptTokenIds { get; }

    /// <summary>Sampled tokens; only the scheduler appends (through <see cref="Scheduler.UpdateFromOutput"/>).</summary>
    public List<int> OutputTokenIds { get; } = [];

    public SamplingParams SamplingParams { get; }

    public int NumPromptTokens => PromptTokenIds.Length;

    public int NumOutputTokens => OutputTokenIds.Count;

    /// <summary>Prompt plus output tokens: the sequence the model has to have seen before sampling the next token.</summary>
    public int NumTokens => PromptTokenIds.Length + OutputTokenIds.Count;

    /// <summary>Token i of prompt + output, without materialising the concatenation.</summary>
    public int TokenAt(int i) => i < PromptTokenIds.Length ? PromptTokenIds[i] : OutputTokenIds[i - PromptTokenIds.Length];

    /// <summary>Copies tokens [start, start + destination.Length) of prompt + output into destination.</summary>
    public void CopyTokens(int start, Span<int> destination)
    {
        if ((uint)start > (uint)NumTokens || destination.Length > NumTokens - start)
            throw new ArgumentOutOfRangeException(nameof(start));
        int fromPrompt = Math.Clamp(PromptTokenIds.Length - start, 0, destination.Length);
        if (fromPrompt > 0)
            PromptTokenIds.AsSpan(start, fromPrompt).CopyTo(destination);
        if (fromPrompt < destination.Length)
        {
            int outStart = start + fromPrompt - PromptTokenIds.Length;
            CollectionsMarshal.AsSpan(OutputTokenIds)
                .Slice(outStart, destination.Length - fromPrompt).CopyTo(destination[fromPrompt..]);
        }
    }

    /// <summary>Tokens whose KV is in the cache (computed, or found in the prefix cache).</summary>
    public int NumComputedTokens { get; internal set; }

    public RequestStatus Status { get; internal set; } = RequestStatus.Waiting;

    public bool IsFinished => Status.IsFinished();

    public FinishReason? FinishReason { get; internal set; }

    /// <summary>The stop token (from stop_token_ids) that ended the request; null for EOS and every other reason.</summary>
    public int? StopReasonTokenId { get; internal set; }

    /// <summary>Set with <see cref="RequestStatus.FinishedError"/>: a message the user can act on.</summary>
    public string? ErrorMessage { get; internal set; }

    /// <summary>Stopwatch ticks at arrival, for queue-time and latency metrics.</summary>
    public long ArrivalTimestamp { get; }

    public int NumPreemptions { get; internal set; }

    /// <summary>The model's end-of-sequence tokens (config, tokenizer and generation_config); set by the engine. Empty means no EOS check.</summary>
    public IReadOnlyList<int> EosTokenIds { get; set; } = [];

    /// <summary>Convenience for a single EOS id (tests, simple callers).</summary>
    public int? EosTokenId
    {
        get => EosTokenIds.Count > 0 ? EosTokenIds[0] : null;
        set => EosTokenIds = value is { } v ? [v] : [];
    }

    /// <summary>The request ends with <see cref="Scheduling.FinishReason.Length"/> once NumTokens reaches this.
    /// 0 (or anything above the scheduler's limit) means the scheduler's MaxModelLen.</summary>
    public int MaxModelLen { get; set; }

    /// <summary>Prompt tokens found in the prefix cache when the request was first scheduled (usage.cached_tokens).</summary>
    public int NumCachedTokens { get; internal set; }

    /// <summary>Free slot for the engine (detokenizer state, output channel...); the scheduler never reads it.</summary>
    public object? Tag { get; set; }

    /// <summary>Hashes of this request's full blocks, computed once each; index i covers tokens [i*BlockSize, (i+1)*BlockSize).</summary>
    internal List<BlockHash> BlockHashes { get; } = [];

    internal bool HasBeenScheduled { get; set; }

    /// <summary>Node in the scheduler's waiting queue while waiting, so abort removes it in O(1).</summary>
    internal LinkedListNode<Request>? WaitingNode { get; set; }

    public override string ToString() => $"{Id} [{Status}] computed {NumComputedTokens}/{NumTokens} (prompt {NumPromptTokens})";
}
