namespace Inference.Server.Bench;

/// <summary>Timings of one streamed request, in seconds; Error is set when it failed.</summary>
public sealed record BenchRequestResult(bool Success, double Latency, double TimeToFirstToken, IReadOnlyList<double> InterTokenLatencies,
    int PromptTokens, int OutputTokens, string? Error = null);
