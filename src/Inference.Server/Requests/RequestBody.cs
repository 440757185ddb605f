using System.Text.Json;
using Inference.Server.Errors;
using Microsoft.AspNetCore.Http;

namespace Inference.Server.Requests;

/// <summary>Reads a request body as one JSON document within Kestrel's size limit (413 beyond it).</summary>
public static class RequestBody
{
    private static readonly JsonDocumentOptions s_options = new() { MaxDepth = 64 };

    public static async Task<JsonDocument> ReadAsync(HttpContext ctx)
    {
        try
        {
            return await JsonDocument.ParseAsync(ctx.Request.Body, s_options, ctx.RequestAborted);
        }
        catch (JsonException e)
        {
            throw OpenAiException.BadRequest($"the request body is not valid JSON: {e.Message}");
        }
    }

    public static JsonDocument Parse(string json)
    {
        try
        {
            return JsonDocument.Parse(json, s_options);
        }
        catch (JsonException e)
        {
            throw OpenAiException.BadRequest($"the request body is not valid JSON: {e.Message}");
        }
    }
}
