using System.Text;

namespace Inference.Server.Tests.Metrics;

/// <summary>A client that leaves mid-stream: the abort and the freed KV blocks show in /metrics.</summary>
[Collection(GrpcServerCollection.Name)]
public sealed class DisconnectMetricsTests(GrpcServerFixture server)
{
    private const string Label = "{model_name=\"stories260K\"}";
    private const string AbortSeries = "inference_request_success_total{model_name=\"stories260K\",finished_reason=\"abort\"}";

    [Fact]
    public async Task Disconnect_mid_stream_shows_as_abort_and_the_kv_cache_empties()
    {
        await server.WaitIdleAsync(TimeSpan.FromSeconds(30));
        double Value(string text, string series) => GrpcServerFixture.MetricValue(text, series) is var v && double.IsNaN(v) ? 0 : v;
        string before = await server.ScrapeAsync();

        // 32 samples of up to 450 tokens: far longer than it takes to read the first chunk and hang up.
        const string body = """{"prompt":"Once upon a time","max_tokens":450,"n":32,"temperature":1,"seed":1,"ignore_eos":true,"stream":true}""";
        using (var content = new StringContent(body, Encoding.UTF8, "application/json"))
        using (var request = new HttpRequestMessage(HttpMethod.Post, "/v1/completions") { Content = content })
        {
            var response = await server.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            Assert.StartsWith("data: {", await reader.ReadLineAsync());
            string during = await server.ScrapeAsync();
            Assert.True(Value(during, "inference_kv_cache_usage_perc" + Label) > 0, "KV blocks in use while streaming");
            response.Dispose(); // closes the connection mid-stream
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        string after;
        while (true)
        {
            after = await server.ScrapeAsync();
            if (Value(after, "inference_num_requests_running" + Label) == 0 && Value(after, "inference_kv_cache_usage_perc" + Label) == 0
                && Value(after, AbortSeries) - Value(before, AbortSeries) == 32)
                break;
            Assert.False(timeout.IsCancellationRequested, $"metrics after disconnect:\n{after}");
            await Task.Delay(50);
        }
        Assert.True(Value(after, "inference_generation_tokens_total" + Label) - Value(before, "inference_generation_tokens_total" + Label) < 32 * 450,
            "the samples stopped early");
    }
}
