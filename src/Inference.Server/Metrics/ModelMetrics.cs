using Inference.Engine;
using Inference.Scheduling;
using Inference.Server.Generation;
using Prometheus;

namespace Inference.Server.Metrics;

/// <summary>
/// The metric children of one served model: fed by the engine as an <see cref="IEngineObserver"/> (on the engine
/// thread, so every call is a few atomic adds) and by <see cref="Refresh"/> with engine stats at scrape time.
/// </summary>
public sealed class ModelMetrics : IEngineObserver
{
    private readonly InferenceMetrics _m;
    private readonly string _model;
    private readonly Counter.Child _promptTokens, _generationTokens, _preemptions, _prefixQueries, _prefixHits;
    private readonly Histogram.Child _ttft, _itl, _e2e, _queue, _requestPrompt, _requestGeneration, _iteration;

    public ModelMetrics(InferenceMetrics metrics, string modelName)
    {
        _m = metrics;
        _model = modelName;
        _promptTokens = metrics.PromptTokens.WithLabels(modelName);
        _generationTokens = metrics.GenerationTokens.WithLabels(modelName);
        _preemptions = metrics.Preemptions.WithLabels(modelName);
        _prefixQueries = metrics.PrefixCacheQueries.WithLabels(modelName);
        _prefixHits = metrics.PrefixCacheHits.WithLabels(modelName);
        _ttft = metrics.TimeToFirstToken.WithLabels(modelName);
        _itl = metrics.InterTokenLatency.WithLabels(modelName);
        _e2e = metrics.EndToEndLatency.WithLabels(modelName);
        _queue = metrics.QueueTime.WithLabels(modelName);
        _requestPrompt = metrics.RequestPromptTokens.WithLabels(modelName);
        _requestGeneration = metrics.RequestGenerationTokens.WithLabels(modelName);
        _iteration = metrics.IterationTokens.WithLabels(modelName);
        // Every series exists from the start, so dashboards and rate() see zeros rather than gaps.
        foreach (var reason in (string[])["stop", "length", "abort"]) metrics.RequestSuccess.WithLabels(modelName, reason);
    }

    public void OnStep(int scheduledTokens, int promptTokens, int generationTokens, int preemptions, in SchedulerStats stats)
    {
        _promptTokens.Inc(promptTokens);
        _generationTokens.Inc(generationTokens);
        _iteration.Observe(scheduledTokens);
        Totals(stats);
    }

    public void OnInterTokenLatency(double seconds) => _itl.Observe(seconds);

    public void OnRequestFinished(RequestMetrics r)
    {
        _m.RequestSuccess.WithLabels(_model, FinishReasons.ToOpenAi(r.FinishReason) ?? "error").Inc();
        _e2e.Observe(r.EndToEnd);
        _requestPrompt.Observe(r.PromptTokens);
        _requestGeneration.Observe(r.GenerationTokens);
        // An aborted request may never have been scheduled or produced a token; zeros would skew the histograms.
        if (r.QueueTime > 0) _queue.Observe(r.QueueTime);
        if (r.TimeToFirstToken > 0) _ttft.Observe(r.TimeToFirstToken);
    }

    /// <summary>Brings the gauges and the scheduler's running totals up to date (called before each scrape).</summary>
    public void Refresh(EngineStats stats)
    {
        var s = stats.Scheduler;
        _m.RequestsRunning.WithLabels(_model).Set(s.NumRunning);
        _m.RequestsWaiting.WithLabels(_model).Set(s.NumWaiting);
        _m.KvCacheUsage.WithLabels(_model).Set(s.KvCacheUsage);
        Totals(s);
    }

    // The scheduler keeps these as running totals; IncTo never moves a counter backwards.
    private void Totals(in SchedulerStats s)
    {
        _preemptions.IncTo(s.NumPreemptionsTotal);
        _prefixQueries.IncTo(s.PrefixCacheQueries);
        _prefixHits.IncTo(s.PrefixCacheHits);
    }
}
