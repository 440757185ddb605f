using Inference.Engine;

namespace Inference.Server.Generation;

/// <summary>One engine output of one prompt of a request (Output.Index is the sample within that prompt).</summary>
public readonly record struct GenerationEvent(int PromptIndex, RequestOutput Output);
