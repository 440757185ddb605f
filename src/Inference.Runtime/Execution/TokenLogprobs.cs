namespace Inference.Execution;

/// <summary>The log-probability of a chosen token and the top alternatives at that step.</summary>
public sealed record TokenLogprobs(int TokenId, float Logprob, int Rank, IReadOnlyList<(int TokenId, float Logprob)> Top);
