namespace Inference.Scheduling;

/// <summary>One request's share of a step: compute tokens [StartPosition, StartPosition + NumNewTokens) into BlockTable.</summary>
/// <param name="StartPosition">The request's NumComputedTokens before this step (prefix-cache hits included).</param>
/// <param name="WillSample">The chunk reaches the request's last token, so this step yields logits for a new token.</param>
/// <param name="BlockTable">Live view of the request's block ids; read it before the next Schedule().</param>
public readonly record struct ScheduledRequest(Request Request, int NumNewTokens, int StartPosition, bool WillSample, IReadOnlyList<int> BlockTable);
