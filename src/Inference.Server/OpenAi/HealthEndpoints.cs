using System.Reflection;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Inference.Server.OpenAi;

/// <summary>GET /health (503 while the model loads, 200 when it serves) and GET /version.</summary>
public static class HealthEndpoints
{
    public static string Version { get; } =
        typeof(HealthEndpoints).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";

    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapMethods("/health", ["GET", "HEAD"], ctx =>
        {
            bool ready = ctx.RequestServices.GetRequiredService<ModelSlot>().IsReady;
            ctx.Response.StatusCode = ready ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable;
            return OpenAiJson.WriteAsync(ctx, new JsonObject { ["status"] = ready ? "ok" : "loading" });
        });
        app.MapGet("/version", ctx => OpenAiJson.WriteAsync(ctx, new JsonObject { ["version"] = Version }));
    }
}
