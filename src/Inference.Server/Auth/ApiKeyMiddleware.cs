using System.Security.Cryptography;
using System.Text;
using Inference.Server.Errors;
using Microsoft.AspNetCore.Http;

namespace Inference.Server.Auth;

/// <summary>Bearer-token check against --api-key on every route but the probes (/health, /metrics).</summary>
public sealed class ApiKeyMiddleware(RequestDelegate next, ServerOptions options)
{
    private readonly byte[]? _key = options.ApiKey is null ? null : Encoding.UTF8.GetBytes(options.ApiKey);

    public Task InvokeAsync(HttpContext ctx)
    {
        if (_key is null || IsOpen(ctx.Request.Path)) return next(ctx);
        string? header = ctx.Request.Headers.Authorization;
        if (header is null || !header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            throw OpenAiException.Unauthorized("missing API key: send the header 'Authorization: Bearer YOUR_KEY'");
        var given = Encoding.UTF8.GetBytes(header["Bearer ".Length..].Trim());
        // Constant-time so the comparison does not leak how much of the key matched.
        if (!CryptographicOperations.FixedTimeEquals(given, _key))
            throw OpenAiException.Unauthorized("incorrect API key");
        return next(ctx);
    }

    private static bool IsOpen(PathString path) =>
        path.Equals("/health", StringComparison.OrdinalIgnoreCase) || path.StartsWithSegments("/metrics", StringComparison.OrdinalIgnoreCase);
}
