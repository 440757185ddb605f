using Prometheus;

namespace Inference.Server.Metrics;

/// <summary>
/// The server's metric families (names after vLLM's "vllm:*" with an "inference_" prefix), all labelled
/// model_name, in one registry per server so several servers in a process do not share counts.
/// </summary>
public sealed class InferenceMetrics
{
    private const string Model = "model_name";

    public CollectorRegistry Registry { get; }
    public Gauge RequestsRunning { get; }
    public Gauge RequestsWaiting { get; }
    public Gauge KvCacheUsage { get; }
    public Counter PromptTokens { get; }
    public Counter GenerationTokens { get; }
    public Counter RequestSuccess { get; }
    public Counter Preemptions { get; }
    public Counter PrefixCacheQueries { get; }
    public Counter PrefixCacheHits { get; }
    public Histogram TimeToFirstToken { get; }
    public Histogram InterTokenLatency { get; }
    public Histogram EndToEndLatency { get; }
    public Histogram QueueTime { get; }
    public Histogram RequestPromptTokens { get; }
    public Histogram RequestGenerationTokens { get; }
    public Histogram IterationTokens { get; }

    /// <param name="maxModelLen">Upper end of the per-request token-count buckets.</param>
    public InferenceMetrics(CollectorRegistry registry, int maxModelLen)
    {
        Registry = registry;
        var f = Prometheus.Metrics.WithCustomRegistry(registry);
        RequestsRunning = f.CreateGauge("inference_num_requests_running", "Number of requests in the running batch.", Model);
        RequestsWaiting = f.CreateGauge("inference_num_requests_waiting", "Number of requests waiting to be scheduled.", Model);
        KvCacheUsage = f.CreateGauge("inference_kv_cache_usage_perc", "KV-cache usage: 1 means every block is in use.", Model);
        PromptTokens = f.CreateCounter("inference_prompt_tokens_total", "Prompt tokens prefilled.", Model);
        GenerationTokens = f.CreateCounter("inference_generation_tokens_total", "Tokens generated.", Model);
        RequestSuccess = f.CreateCounter("inference_request_success_total", "Finished requests by finish reason.", Model, "finished_reason");
        Preemptions = f.CreateCounter("inference_num_preemptions_total", "Requests preempted to free KV-cache blocks.", Model);
        PrefixCacheQueries = f.CreateCounter("inference_prefix_cache_queries_total", "Prompt tokens looked up in the prefix cache.", Model);
        PrefixCacheHits = f.CreateCounter("inference_prefix_cache_hits_total", "Prompt tokens found in the prefix cache.", Model);
        TimeToFirstToken = Hist(f, "inference_time_to_first_token_seconds", "Time from arrival to the first generated token.", MetricBuckets.TimeToFirstToken);
        InterTokenLatency = Hist(f, "inference_inter_token_latency_seconds", "Time between consecutive generated tokens of a request.", MetricBuckets.InterTokenLatency);
        EndToEndLatency = Hist(f, "inference_e2e_request_latency_seconds", "Time from arrival to the end of a request.", MetricBuckets.RequestLatency);
        QueueTime = Hist(f, "inference_request_queue_time_seconds", "Time a request waited before it was first scheduled.", MetricBuckets.RequestLatency);
        var tokenBuckets = MetricBuckets.OneTwoFive(Math.Max(1, maxModelLen));
        RequestPromptTokens = Hist(f, "inference_request_prompt_tokens", "Prompt tokens per finished request.", tokenBuckets);
        RequestGenerationTokens = Hist(f, "inference_request_generation_tokens", "Generated tokens per finished request.", tokenBuckets);
        IterationTokens = Hist(f, "inference_iteration_tokens", "Tokens scheduled per engine step.", MetricBuckets.IterationTokens);
    }

    private static Histogram Hist(IMetricFactory f, string name, string help, double[] buckets) =>
        f.CreateHistogram(name, help, new HistogramConfiguration { LabelNames = [Model], Buckets = buckets });
}
