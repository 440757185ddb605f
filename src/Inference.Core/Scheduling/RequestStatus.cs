namespace Inference.Scheduling;

/// <summary>Where a request is in its life; every Finished* value is terminal.</summary>
public enum RequestStatus
{
    Waiting,
    Running,
    /// <summary>Lost its KV blocks to make room; waits at the front of the queue and recomputes from token 0.</summary>
    Preempted,
    FinishedStopped,
    FinishedLength,
    FinishedAborted,
    FinishedError,
}

/// <summary>Helpers on <see cref="RequestStatus"/>.</summary>
public static class RequestStatusExtensions
{
    public static bool IsFinished(this RequestStatus status) => status >= RequestStatus.FinishedStopped;

    public static RequestStatus ToStatus(this FinishReason reason) => reason switch
    {
        FinishReason.Stop => RequestStatus.FinishedStopped,
        FinishReason.Length => RequestStatus.FinishedLength,
        FinishReason.Abort => RequestStatus.FinishedAborted,
        _ => RequestStatus.FinishedError,
    };
}
