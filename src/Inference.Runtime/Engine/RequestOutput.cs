using Inference.Execution;
using Inference.Scheduling;

namespace Inference.Engine;

/// <summary>What one step produced for one sequence of a request (Index distinguishes the n samples).</summary>
public sealed record RequestOutput
{
    public required string RequestId { get; init; }
    public int Index { get; init; }
    public required string TextDelta { get; init; }
    public required IReadOnlyList<int> TokenIds { get; init; }
    public IReadOnlyList<TokenLogprobs>? Logprobs { get; init; }
    public bool Finished { get; init; }
    public FinishReason? FinishReason { get; init; }
    /// <summary>The stop string or stop token id that ended the sequence, when one did.</summary>
    public object? StopReason { get; init; }
    public int PromptTokens { get; init; }
    public int CompletionTokens { get; init; }
    public int CachedPromptTokens { get; init; }
    public string? Error { get; init; }
}

/// <summary>Timings of a finished sequence, in seconds, for metrics.</summary>
public sealed record RequestMetrics(
    FinishReason FinishReason, int PromptTokens, int GenerationTokens,
    double QueueTime, double PrefillTime, double TimeToFirstToken, double EndToEnd, double MeanInterTokenLatency);

/// <summary>Receives engine events for metrics (called on the engine thread: keep it cheap).</summary>
public interface IEngineObserver
{
    void OnStep(int scheduledTokens, int promptTokens, int generationTokens, int preemptions, in SchedulerStats stats);
    void OnInterTokenLatency(double seconds);
    void OnRequestFinished(RequestMetrics metrics);
}
