using System.Text.Json;
using System.Text.RegularExpressions;
using Inference.Grpc.V1;
using Inference.Tests;
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

        // Every query of the Grafana dashboard parses and finds data in what this server exports.
        using var dashboard = JsonDocument.Parse(File.ReadAllText(Path.Combine(RepoPaths.Root, "deploy", "grafana", "dashboards", "inference.json")));
        var exprs = dashboard.RootElement.GetProperty("panels").EnumerateArray()
            .SelectMany(p => p.GetProperty("targets").EnumerateArray()).Select(t => t.GetProperty("expr").GetString()!).ToArray();
        Assert.True(exprs.Length >= 12, $"the dashboard has only {exprs.Length} queries");
        foreach (var expr in exprs)
        {
            string promql = expr.Replace("$model_name", ".*", StringComparison.Ordinal);
            Assert.Equal("success", await prometheus.CheckQueryAsync(http, promql, CancellationToken.None));
            string metric = Regex.Match(promql, "(inference|process)_[a-z0-9_]+").Value;
            Assert.True(await prometheus.QueryAsync(http, $"count({{__name__=~\"{metric}(_bucket)?\"}})", CancellationToken.None) > 0,
                $"Prometheus has no series {metric} used by: {expr}");
        }
    }
}
