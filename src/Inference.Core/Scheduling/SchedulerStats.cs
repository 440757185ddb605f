namespace Inference.Scheduling;

/// <summary>Point-in-time scheduler and KV-cache numbers for metrics and logs.</summary>
public readonly record struct SchedulerStats(
    int NumRunning,
    int NumWaiting,
    float KvCacheUsage,
    long NumPreemptionsTotal,
    long PrefixCacheQueries,
    long PrefixCacheHits,
    int NumFreeBlocks,
    int NumBlocks);
