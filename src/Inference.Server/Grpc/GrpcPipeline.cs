using Grpc.HealthCheck;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace Inference.Server.Grpc;

/// <summary>
/// Sends every request that arrives on the gRPC port into a pipeline of its own, ahead of the HTTP server's
/// middleware: the OpenAI error and API-key middleware answer in JSON, which a gRPC client cannot read, and
/// the gRPC interceptors do both jobs with gRPC statuses instead. It also keeps the OpenAI routes off this port.
/// </summary>
internal sealed class GrpcPipeline(GrpcListener listener) : IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.MapWhen(IsGrpcPort, grpc =>
        {
            grpc.UseRouting();
            grpc.UseEndpoints(e =>
            {
                e.MapGrpcService<InferenceGrpcService>();
                e.MapGrpcService<HealthServiceImpl>();
                e.MapGrpcReflectionService();
            });
        });
        next(app);
    };

    private bool IsGrpcPort(HttpContext ctx) => ctx.Connection.LocalPort == listener.Port;
}
