namespace Inference.Scheduling;

/// <summary>What one step computes, plus what changed since the last step that the model runner must forget.</summary>
public sealed class SchedulerOutput
{
    internal SchedulerOutput(List<ScheduledRequest> scheduled, int totalNumScheduledTokens, List<string> preemptedRequestIds, List<string> finishedRequestIds)
    {
        ScheduledRequests = scheduled;
        TotalNumScheduledTokens = totalNumScheduledTokens;
        PreemptedRequestIds = preemptedRequestIds;
        FinishedRequestIds = finishedRequestIds;
    }

    /// <summary>Running requests first (admission order), then the newly admitted ones.</summary>
    public IReadOnlyList<ScheduledRequest> ScheduledRequests { get; }

    public int TotalNumScheduledTokens { get; }

    /// <summary>Requests preempted in this step; their KV is gone and they recompute from token 0 later.</summary>
    public IReadOnlyList<string> PreemptedRequestIds { get; }

    /// <summary>Requests finished (any reason) since the previous step.</summary>
    public IReadOnlyList<string> FinishedRequestIds { get; }

    public bool IsEmpty => ScheduledRequests.Count == 0;
}
