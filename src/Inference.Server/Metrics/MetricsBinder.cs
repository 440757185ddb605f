using Inference.Engine;
using Microsoft.Extensions.Hosting;
using Prometheus;

namespace Inference.Server.Metrics;

/// <summary>
/// Once the model is ready: creates its metrics in the server's registry, makes them the engine's observer and
/// refreshes the gauges from engine stats before every scrape. Detaches from the engine when the server stops,
/// since the engine may outlive this server (tests, a restarted front end).
/// </summary>
public sealed class MetricsBinder(CollectorRegistry registry, IHostApplicationLifetime lifetime) : IModelReadyListener
{
    private ModelMetrics? _metrics;

    /// <summary>The bound model's metrics; null until the model is ready.</summary>
    public ModelMetrics? Metrics => _metrics;

    public void OnModelReady(ServedModel model)
    {
        var metrics = new ModelMetrics(new InferenceMetrics(registry, model.MaxModelLen), model.Name);
        var engine = model.Engine;
        var previous = engine.Observer;
        IEngineObserver installed = previous is null ? metrics : new CompositeObserver(previous, metrics);
        engine.Observer = installed;
        _metrics = metrics;
        registry.AddBeforeCollectCallback(() => metrics.Refresh(engine.GetStats()));
        lifetime.ApplicationStopped.Register(() =>
        {
            if (ReferenceEquals(engine.Observer, installed)) engine.Observer = previous;
        });
    }
}
