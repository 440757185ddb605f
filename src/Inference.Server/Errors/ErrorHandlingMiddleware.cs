using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Inference.Server.Errors;

/// <summary>Catches whatever an endpoint throws before its response started and answers with an OpenAI error body.</summary>
public sealed class ErrorHandlingMiddleware(RequestDelegate next, ILogger<ErrorHandlingMiddleware> log)
{
    public async Task InvokeAsync(HttpContext ctx)
    {
        try
        {
            await next(ctx);
        }
        catch (OperationCanceledException) when (ctx.RequestAborted.IsCancellationRequested)
        {
            // The client went away; there is nobody to answer.
        }
        catch (Exception e) when (!ctx.Response.HasStarted)
        {
            var error = ErrorMapping.Map(e, log);
            ctx.Response.Clear();
            if (error.Status == StatusCodes.Status429TooManyRequests && ctx.RequestServices.GetService(typeof(ServerOptions)) is ServerOptions o)
                ctx.Response.Headers.RetryAfter = o.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            await error.ToError().WriteAsync(ctx, error.Status);
        }
    }
}
