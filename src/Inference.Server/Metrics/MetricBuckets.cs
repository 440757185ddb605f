namespace Inference.Server.Metrics;

/// <summary>Histogram buckets after vLLM's, with finer low ends because small models answer in milliseconds.</summary>
public static class MetricBuckets
{
    public static readonly double[] TimeToFirstToken =
        [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0];

    public static readonly double[] InterTokenLatency =
        [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0];

    /// <summary>End-to-end and queue time.</summary>
    public static readonly double[] RequestLatency =
        [0.001, 0.005, 0.01, 0.05, 0.1, 0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0];

    /// <summary>Tokens scheduled in one engine step.</summary>
    public static readonly double[] IterationTokens = [1, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384];

    /// <summary>vLLM's build_1_2_5_buckets: 1, 2, 5, 10, 20, 50, ... up to <paramref name="max"/>.</summary>
    public static double[] OneTwoFive(int max)
    {
        var buckets = new List<double>();
        for (long scale = 1; ; scale *= 10)
            foreach (int m in (int[])[1, 2, 5])
            {
                long v = m * scale;
                if (v > max) return [.. buckets];
                buckets.Add(v);
            }
    }
}
