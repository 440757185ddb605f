using Microsoft.AspNetCore.Http;

namespace Inference.Server.Errors;

/// <summary>A request failure with its HTTP status and OpenAI error fields; thrown anywhere, written in one place.</summary>
public sealed class OpenAiException(int status, string message, string type, string? param = null, string? code = null)
    : Exception(message)
{
    public int Status { get; } = status;
    public string Type { get; } = type;
    public string? Param { get; } = param;
    public string? Code { get; } = code;

    public OpenAiError ToError() => new(Message, Type, Param, Code);

    public static OpenAiException BadRequest(string message, string? param = null) =>
        new(StatusCodes.Status400BadRequest, message, "invalid_request_error", param);

    public static OpenAiException ModelNotFound(string model) =>
        new(StatusCodes.Status404NotFound, $"The model `{model}` does not exist.", "invalid_request_error", "model", "model_not_found");

    public static OpenAiException Unauthorized(string message) =>
        new(StatusCodes.Status401Unauthorized, message, "invalid_request_error", null, "invalid_api_key");

    public static OpenAiException Overloaded() =>
        new(StatusCodes.Status429TooManyRequests, "the server is at its waiting-queue limit (--max-waiting); retry later", "rate_limit_error", null, "rate_limit_exceeded");

    public static OpenAiException Loading() =>
        new(StatusCodes.Status503ServiceUnavailable, "the model is still loading", "service_unavailable_error");
}
