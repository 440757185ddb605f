using Inference.Grpc.V1;

namespace Inference.Server.Tests.Metrics;

[Collection(GrpcServerCollection.Name)]
public sealed class MetricsEndpointTests(GrpcServerFixture server)
{
    private const string Label = "{model_name=\"stories260K\"}";

    public static readonly string[] Names =
    [
        "inference_num_requests_running", "inference_num_requests_waiting", "inference_kv_cache_usage_perc",
        "inference_prompt_tokens_total", "inference_generation_tokens_total", "inference_request_success_total",
        "inference_num_preemptions_total", "inference_prefix_cache_queries_total", "inference_prefix_cache_hits_total",
        "inference_time_to_first_token_seconds", "inference_inter_token_latency_seconds", "inference_e2e_request_latency_seconds",
        "inference_request_queue_time_seconds", "inference_request_prompt_tokens", "inference_request_generation_tokens",
        "inference_iteration_tokens",
    ];

    [Fact]
    public async Task Metrics_HasEveryFamily_AndCountersIncreaseWithARequest()
    {
        await server.WaitIdleAsync(TimeSpan.FromSeconds(30));
        string before = await server.ScrapeAsync();
        double Value(string text, string series) => GrpcServerFixture.MetricValue(text, series) is var v && double.IsNaN(v) ? 0 : v;

        var request = new GenerateRequest { Text = "Once upon a time", Sampling = new SamplingParams { Temperature = 0, MaxTokens = 12, IgnoreEos = true } };
        await server.Client.CompleteAsync(request, deadline: DateTime.UtcNow.AddSeconds(30));
        // The same prompt again: its full blocks are now in the prefix cache.
        await server.Client.CompleteAsync(request, deadline: DateTime.UtcNow.AddSeconds(30));
        string after = await server.ScrapeAsync();

        foreach (var name in Names)
            Assert.Contains($"\n# TYPE {name} ", after);
        Assert.Contains("process_cpu_seconds_total", after);
        Assert.Contains("dotnet_total_memory_bytes", after);

        Assert.Equal(24, Value(after, "inference_generation_tokens_total" + Label) - Value(before, "inference_generation_tokens_total" + Label));
        Assert.Equal(10, Value(after, "inference_prompt_tokens_total" + Label) - Value(before, "inference_prompt_tokens_total" + Label), 5);
        const string lengthSeries = "inference_request_success_total{model_name=\"stories260K\",finished_reason=\"length\"}";
        Assert.Equal(2, Value(after, lengthSeries) - Value(before, lengthSeries));
        Assert.Equal(2, Value(after, "inference_e2e_request_latency_seconds_count" + Label) - Value(before, "inference_e2e_request_latency_seconds_count" + Label));
        Assert.Equal(2, Value(after, "inference_time_to_first_token_seconds_count" + Label) - Value(before, "inference_time_to_first_token_seconds_count" + Label));
        Assert.Equal(22, Value(after, "inference_inter_token_latency_seconds_count" + Label) - Value(before, "inference_inter_token_latency_seconds_count" + Label));
        Assert.Equal(24, Value(after, "inference_request_generation_tokens_sum" + Label) - Value(before, "inference_request_generation_tokens_sum" + Label));
        Assert.True(Value(after, "inference_prefix_cache_queries_total" + Label) > Value(before, "inference_prefix_cache_queries_total" + Label));
        Assert.True(Value(after, "inference_iteration_tokens_count" + Label) >= 12);
        Assert.Equal(0, Value(after, "inference_num_requests_running" + Label));
    }

    [Fact]
    public async Task Metrics_NeedsNoApiKey_ButTheApiDoes()
    {
        string text = await server.ScrapeAsync();
        Assert.Contains("inference_num_requests_running", text);
        using var plain = new HttpClient { BaseAddress = server.HttpBase, Timeout = TimeSpan.FromSeconds(30) };
        using var models = await plain.GetAsync("/v1/models");
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, models.StatusCode);
    }
}
