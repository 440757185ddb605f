using Inference.Scheduling;

namespace Inference.Server.Generation;

/// <summary>OpenAI's finish_reason strings.</summary>
public static class FinishReasons
{
    public static string? ToOpenAi(FinishReason? reason) => reason switch
    {
        null => null,
        FinishReason.Stop => "stop",
        FinishReason.Length => "length",
        FinishReason.Abort => "abort",
        _ => "error",
    };
}
