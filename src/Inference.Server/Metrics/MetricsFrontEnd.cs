using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Prometheus;

namespace Inference.Server.Metrics;

/// <summary>Prometheus metrics: the engine's (see <see cref="InferenceMetrics"/>) plus process and .NET runtime ones, at GET /metrics.</summary>
public static class MetricsFrontEnd
{
    public const string Path = "/metrics";

    /// <summary>The configureBuilder part: this server's own registry and what fills it.</summary>
    public static void Configure(WebApplicationBuilder builder)
    {
        // A registry per server: the static default one would merge the counts of every server in the process.
        var registry = Prometheus.Metrics.NewCustomRegistry();
        DotNetStats.Register(registry); // process_cpu_seconds_total, process_working_set_bytes, dotnet_total_memory_bytes, ...
        builder.Services.AddSingleton(registry);
        builder.Services.AddSingleton<MetricsBinder>();
        builder.Services.AddSingleton<IModelReadyListener>(s => s.GetRequiredService<MetricsBinder>());
    }

    /// <summary>The configureApp part: the scrape endpoint (the API-key middleware leaves /metrics open).</summary>
    public static void Map(WebApplication app) =>
        app.MapMetrics(Path, app.Services.GetRequiredService<CollectorRegistry>());
}
