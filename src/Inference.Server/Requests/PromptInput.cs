namespace Inference.Server.Requests;

/// <summary>One prompt of a request: its token ids and, for echo, its text.</summary>
public sealed record PromptInput(int[] TokenIds, string Text);
