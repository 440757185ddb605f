using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using Inference.Grpc.V1;
using Inference.Server.Metrics;
using Microsoft.Extensions.DependencyInjection;

namespace Inference.Server.Tests.Grpc;

/// <summary>A server started before its model is loaded, as `serve` does: health and metrics follow the slot.</summary>
[Collection(GrpcServerCollection.Name)]
public sealed class GrpcReadinessTests(GrpcServerFixture server)
{
    [Fact]
    public async Task Health_GoesServing_AndMetricsAttach_WhenTheSlotBecomesReady()
    {
        var slot = new ModelSlot();
        await using var app = FrontEnds.Build(new ServerOptions { Port = 0, GrpcPort = 0 }, slot);
        using var start = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await app.StartAsync(start.Token);
        try
        {
            using var channel = GrpcChannel.ForAddress(FrontEnds.GrpcUrl(app));
            var health = new Health.HealthClient(channel);
            var status = await health.CheckAsync(new HealthCheckRequest(), deadline: DateTime.UtcNow.AddSeconds(30));
            Assert.Equal(HealthCheckResponse.Types.ServingStatus.NotServing, status.Status);
            var e = await Assert.ThrowsAsync<RpcException>(() =>
                new Inference.Grpc.V1.Inference.InferenceClient(channel).ListModelsAsync(new ListModelsRequest(), deadline: DateTime.UtcNow.AddSeconds(30)).ResponseAsync);
            Assert.Equal(StatusCode.Unavailable, e.StatusCode);

            slot.SetReady(server.Engine);
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            while (status.Status != HealthCheckResponse.Types.ServingStatus.Serving)
            {
                await Task.Delay(20, deadline.Token);
                status = await health.CheckAsync(new HealthCheckRequest(), deadline: DateTime.UtcNow.AddSeconds(30));
            }
            Assert.NotNull(app.Services.GetRequiredService<MetricsBinder>().Metrics);
            Assert.IsType<CompositeObserver>(server.Engine.Observer);
        }
        finally
        {
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await app.StopAsync(stop.Token);
        }
        // Stopped, the second server no longer listens to the shared engine.
        Assert.IsType<ModelMetrics>(server.Engine.Observer);
    }
}
