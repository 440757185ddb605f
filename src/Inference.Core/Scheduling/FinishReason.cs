namespace Inference.Scheduling;

/// <summary>Why a request ended (OpenAI's finish_reason: stop, length, abort, error).</summary>
public enum FinishReason
{
    Stop,
    Length,
    Abort,
    Error,
}
