using System.Net;
using Grpc.HealthCheck;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Inference.Server.Grpc;

/// <summary>Adds the gRPC service (inference.v1, grpc.health.v1, reflection) on its own HTTP/2 port.</summary>
public static class GrpcFrontEnd
{
    /// <summary>The configureBuilder part: the extra Kestrel listener, the services and the pipeline for that port.</summary>
    public static void Configure(WebApplicationBuilder builder, ServerOptions options)
    {
        var listener = new GrpcListener();
        builder.WebHost.ConfigureKestrel(k =>
        {
            // Cleartext HTTP/2 needs an HTTP/2-only endpoint: with HTTP/1 also allowed there is no TLS ALPN to pick.
            void Http2(ListenOptions lo)
            {
                lo.Protocols = HttpProtocols.Http2;
                listener.Options = lo;
            }
            if (options.Host.Equals("localhost", StringComparison.OrdinalIgnoreCase))
                k.ListenLocalhost(options.GrpcPort, Http2);
            else
                k.Listen(IPAddress.Parse(options.Host), options.GrpcPort, Http2);
        });
        builder.Services.AddSingleton(listener);
        builder.Services.AddGrpc(o =>
        {
            o.Interceptors.Add<ApiKeyInterceptor>();
            o.Interceptors.Add<GrpcErrorInterceptor>();
            o.EnableDetailedErrors = false;
        });
        builder.Services.AddGrpcReflection();
        // Grpc.AspNetCore logs every non-OK status at Information; client mistakes are not server news.
        builder.Logging.AddFilter("Grpc", LogLevel.Warning);
        builder.Services.AddSingleton<GrpcHealth>();
        builder.Services.AddSingleton<IModelReadyListener>(s => s.GetRequiredService<GrpcHealth>());
        builder.Services.AddSingleton<HealthServiceImpl>(s => s.GetRequiredService<GrpcHealth>().Service);
        builder.Services.AddSingleton<IStartupFilter, GrpcPipeline>();
    }
}
