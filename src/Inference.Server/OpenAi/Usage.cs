using System.Text.Json.Nodes;

namespace Inference.Server.OpenAi;

/// <summary>OpenAI's usage object.</summary>
public static class Usage
{
    public static JsonObject Json(int promptTokens, int completionTokens) => new()
    {
        ["prompt_tokens"] = promptTokens,
        ["completion_tokens"] = completionTokens,
        ["total_tokens"] = promptTokens + completionTokens,
    };
}
