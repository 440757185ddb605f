using Inference.Grpc.V1;
using Xunit.Abstractions;

namespace Inference.Server.Tests.Metrics;

/// <summary>End to end: a real Prometheus scrapes the server and PromQL sees the tokens it generated.</summary>
[Collection(GrpcServerCollection.Name)]
public sealed class PrometheusScrapeTests(GrpcServerFixture server, ITestOutputHelper output)
{
    [Fact]
    public async Task Prometheus_ScrapesTheServer_AndSeesGenerationRate()
    {
        using var prometheus = new PrometheusProcess(server.HttpBase);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        const string upQuery = "up{job=\"inference\"}";
        const string rateQuery = "rate(inference_generation_tokens_total{model_name=\"stories260K\"}[15s])";
        const string totalQuery = "inference_generation_tokens_total{model_name=\"stories260K\"}";
        double? rate = null;
        try
        {
            // Keep tokens flowing while Prometheus starts and takes at least two scrapes, which rate() needs.
            while (rate is not > 0)
            {
                await server.Client.CompleteAsync(
                    new GenerateRequest { Text = "Once upon a time", Sampling = new SamplingParams { Temperature = 0, MaxTokens = 16, IgnoreEos = true } },
                    deadline: DateTime.UtcNow.AddSeconds(30), cancellationToken: timeout.Token);
                rate = await prometheus.QueryAsync(http, rateQuery, timeout.Token);
                await Task.Delay(250, timeout.Token);
            }
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            Assert.Fail($"no positive {rateQuery} within 60 s; up = {await prometheus.QueryAsync(http, upQuery, CancellationToken.None)}; log:\n{prometheus.Log}");
        }
        output.WriteLine($"{rateQuery} = {rate}");
        Assert.Equal(1, await prometheus.QueryAsync(http, upQuery, CancellationToken.None));
        Assert.True(await prometheus.QueryAsync(http, totalQuery, CancellationToken.None) > 0);
    }
}
