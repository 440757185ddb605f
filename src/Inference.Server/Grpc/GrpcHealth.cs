using Grpc.Health.V1;
using Grpc.HealthCheck;
using Microsoft.Extensions.Hosting;

namespace Inference.Server.Grpc;

/// <summary>
/// Drives grpc.health.v1: NOT_SERVING while the model loads, SERVING once it is ready, NOT_SERVING again when the
/// server begins shutting down so load balancers stop sending new calls while in-flight ones finish.
/// </summary>
public sealed class GrpcHealth : IModelReadyListener
{
    /// <summary>The fully qualified name clients may ask about; "" is the whole server.</summary>
    public const string ServiceName = "inference.v1.Inference";

    public HealthServiceImpl Service { get; } = new();

    public GrpcHealth(IHostApplicationLifetime lifetime)
    {
        Set(HealthCheckResponse.Types.ServingStatus.NotServing);
        lifetime.ApplicationStopping.Register(() => Set(HealthCheckResponse.Types.ServingStatus.NotServing));
    }

    public void OnModelReady(ServedModel model) => Set(HealthCheckResponse.Types.ServingStatus.Serving);

    private void Set(HealthCheckResponse.Types.ServingStatus status)
    {
        Service.SetStatus("", status);
        Service.SetStatus(ServiceName, status);
    }
}
