using System.Net;
using Inference.Server.Auth;
using Inference.Server.Errors;
using Inference.Server.OpenAi;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Inference.Server;

/// <summary>
/// Builds the HTTP server around a <see cref="ModelSlot"/>. Other front ends (gRPC, metrics) plug in through
/// the two hooks: <c>configureBuilder</c> for services and listeners, <c>configureApp</c> for middleware and routes
/// (it runs after error handling and auth, before the OpenAI routes and the 404 fallback).
/// </summary>
public static class ServerHost
{
    public static WebApplication Build(ServerOptions options, ModelSlot slot,
        Action<WebApplicationBuilder>? configureBuilder = null, Action<WebApplication>? configureApp = null)
    {
        options.Validate();
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes;
            k.AddServerHeader = false;
            Listen(k, options.Host, options.Port);
        });
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = options.ShutdownTimeout);
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(slot);
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        configureBuilder?.Invoke(builder);

        var app = builder.Build();
        app.UseMiddleware<ErrorHandlingMiddleware>();
        app.UseMiddleware<ApiKeyMiddleware>();
        configureApp?.Invoke(app);
        MapOpenAi(app);
        app.Lifetime.ApplicationStarted.Register(() => LogListening(app, slot));
        return app;
    }

    /// <summary>Every HTTP route of the server, then the 404 fallback for anything else.</summary>
    public static void MapOpenAi(IEndpointRouteBuilder app)
    {
        HealthEndpoints.Map(app);
        ModelsEndpoint.Map(app);
        CompletionsEndpoint.Map(app);
        ChatCompletionsEndpoint.Map(app);
        TokenizeEndpoints.Map(app);
        ApplyTemplateEndpoint.Map(app);
        app.Map("{**path}", (HttpContext ctx) =>
            throw new OpenAiException(StatusCodes.Status404NotFound, $"no route for {ctx.Request.Method} {ctx.Request.Path}", "invalid_request_error", null, "not_found"))
            .WithOrder(int.MaxValue);
    }

    /// <summary>The base URLs the server listens on (after StartAsync; port 0 is resolved to the real port).</summary>
    public static IReadOnlyList<string> Addresses(WebApplication app) =>
        app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.ToArray() ?? [];

    private static void Listen(KestrelServerOptions k, string host, int port)
    {
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase))
            k.ListenLocalhost(port);
        else if (IPAddress.TryParse(host, out var ip))
            k.Listen(ip, port);
        else
            throw new InferenceException($"--host must be an IP address or 'localhost', got '{host}'");
    }

    private static void LogListening(WebApplication app, ModelSlot slot)
    {
        var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Inference.Server");
        // The gRPC listener (when there is one) is logged by the front end that owns it.
        int grpcPort = app.Services.GetService<Grpc.GrpcListener>()?.Port ?? -1;
        foreach (var url in Addresses(app))
        {
            if (Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Port == grpcPort) continue;
            log.LogInformation("OpenAI-compatible API listening on {Url}/v1{Model}", url, slot.IsReady ? $" (model {slot.Require().Name})" : "");
        }
    }
}
