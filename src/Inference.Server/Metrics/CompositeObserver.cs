using Inference.Engine;
using Inference.Scheduling;

namespace Inference.Server.Metrics;

/// <summary>Forwards engine events to two observers, so a server does not silence one attached before it.</summary>
public sealed class CompositeObserver(IEngineObserver first, IEngineObserver second) : IEngineObserver
{
    public void OnStep(int scheduledTokens, int promptTokens, int generationTokens, int preemptions, in SchedulerStats stats)
    {
        first.OnStep(scheduledTokens, promptTokens, generationTokens, preemptions, stats);
        second.OnStep(scheduledTokens, promptTokens, generationTokens, preemptions, stats);
    }

    public void OnInterTokenLatency(double seconds)
    {
        first.OnInterTokenLatency(seconds);
        second.OnInterTokenLatency(seconds);
    }

    public void OnRequestFinished(RequestMetrics metrics)
    {
        first.OnRequestFinished(metrics);
        second.OnRequestFinished(metrics);
    }
}
