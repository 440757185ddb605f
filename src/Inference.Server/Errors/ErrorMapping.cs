using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Inference.Server.Errors;

/// <summary>The one place that turns an exception into an HTTP status and OpenAI error body.</summary>
public static class ErrorMapping
{
    public static OpenAiException Map(Exception e, ILogger? log = null)
    {
        switch (e)
        {
            case OpenAiException o:
                return o;
            case BadHttpRequestException b when b.StatusCode == StatusCodes.Status413PayloadTooLarge:
                return new OpenAiException(b.StatusCode, $"the request body is larger than the server's limit: {b.Message}", "invalid_request_error", null, "request_too_large");
            case BadHttpRequestException b:
                return new OpenAiException(b.StatusCode, b.Message, "invalid_request_error");
            case JsonException j:
                return OpenAiException.BadRequest($"the request body is not valid JSON: {j.Message}");
            // Bad values (sampling ranges, token ids, template errors) are the client's to fix.
            case InferenceException i:
                return OpenAiException.BadRequest(i.Message);
            default:
                log?.LogError(e, "unhandled error while serving a request");
                return new OpenAiException(StatusCodes.Status500InternalServerError, $"internal server error: {e.GetType().Name}: {e.Message}", "internal_server_error");
        }
    }
}
