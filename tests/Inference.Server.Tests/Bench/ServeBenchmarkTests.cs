using Inference.Server.Bench;

namespace Inference.Server.Tests.Bench;

[Collection(GrpcServerCollection.Name)]
public sealed class ServeBenchmarkTests(GrpcServerFixture server)
{
    [Fact]
    public async Task BenchServe_CompletesEveryRequest_WithExactTokenCounts()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var report = await ServeBenchmark.RunAsync(new ServeBenchmarkOptions
        {
            Url = server.HttpBase,
            ApiKey = GrpcServerFixture.ApiKey,
            NumPrompts = 12,
            Concurrency = 4,
            InputLen = 20,
            OutputLen = 10,
        }, ct: timeout.Token);

        Assert.True(report.Failed == 0, report.FirstError);
        Assert.Equal(12, report.Completed);
        Assert.Equal(12 * 20, report.TotalInputTokens);
        Assert.Equal(12 * 10, report.TotalOutputTokens);
        Assert.True(report.P50TtftMs > 0 && report.P99TtftMs >= report.P50TtftMs);
        Assert.True(report.P50ItlMs > 0 && report.P99ItlMs >= report.P50ItlMs);
        Assert.True(report.OutputThroughput > 0 && report.RequestThroughput > 0);
        Assert.Contains("\"output_throughput\":", report.ToJson());
    }

    [Fact]
    public async Task BenchServe_WrongKey_FailsWithTheServersMessage()
    {
        var e = await Assert.ThrowsAsync<InferenceException>(() => ServeBenchmark.RunAsync(new ServeBenchmarkOptions
        {
            Url = server.HttpBase, ApiKey = "wrong", NumPrompts = 1, Concurrency = 1,
        }));
        Assert.Contains("401", e.Message);
    }

    [Fact]
    public void Percentile_InterpolatesLikeNumpy()
    {
        double[] xs = [4, 1, 3, 2];
        Assert.Equal(2.5, BenchReport.Percentile(xs, 50));
        Assert.Equal(3.97, BenchReport.Percentile(xs, 99), 6);
        Assert.Equal(0, BenchReport.Percentile([], 50));
    }
}
