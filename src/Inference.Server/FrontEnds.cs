using Inference.Server.Grpc;
using Inference.Server.Metrics;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Inference.Server;

/// <summary>
/// The whole server: the OpenAI HTTP API from <see cref="ServerHost"/> plus the gRPC service on --grpc-port and
/// Prometheus metrics at /metrics. The engine's metrics observer and gRPC health follow the slot: they switch on
/// when <see cref="ModelSlot.SetReady"/> publishes the model, so callers may build and start before loading.
/// </summary>
public static class FrontEnds
{
    public static WebApplication Build(ServerOptions options, ModelSlot slot)
    {
        options.Validate();
        if (options.Port != 0 && options.Port == options.GrpcPort)
            throw new InferenceException($"--port and --grpc-port must differ, both are {options.Port}");
        return ServerHost.Build(options, slot, ConfigureBuilder(options), ConfigureApp);
    }

    /// <summary>The configureBuilder hook: gRPC listener and services, metrics registry, readiness watcher.</summary>
    public static Action<WebApplicationBuilder> ConfigureBuilder(ServerOptions options) => builder =>
    {
        GrpcFrontEnd.Configure(builder, options);
        MetricsFrontEnd.Configure(builder);
        builder.Services.AddHostedService<ModelReadyWatcher>();
    };

    /// <summary>The configureApp hook: GET /metrics, and a log line naming the gRPC address once it is bound.</summary>
    public static void ConfigureApp(WebApplication app)
    {
        MetricsFrontEnd.Map(app);
        app.Lifetime.ApplicationStarted.Register(() =>
            app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Inference.Server")
                .LogInformation("gRPC (inference.v1, grpc.health.v1, reflection) listening on {Url}; metrics at /metrics", GrpcUrl(app)));
    }

    /// <summary>"http://HOST:PORT" of the gRPC service (after StartAsync; port 0 is resolved to the real port).</summary>
    public static string GrpcUrl(WebApplication app) => app.Services.GetRequiredService<GrpcListener>().Url;
}
