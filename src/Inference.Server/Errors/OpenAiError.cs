using System.Text.Json.Nodes;
using Inference.Server.OpenAi;
using Microsoft.AspNetCore.Http;

namespace Inference.Server.Errors;

/// <summary>OpenAI's error object: {"error": {"message", "type", "param", "code"}}.</summary>
public sealed record OpenAiError(string Message, string Type, string? Param = null, string? Code = null)
{
    public JsonObject ToJson() => new()
    {
        ["error"] = new JsonObject
        {
            ["message"] = Message,
            ["type"] = Type,
            ["param"] = Param,
            ["code"] = Code,
        },
    };

    public Task WriteAsync(HttpContext ctx, int status)
    {
        ctx.Response.StatusCode = status;
        return OpenAiJson.WriteAsync(ctx, ToJson());
    }
}
