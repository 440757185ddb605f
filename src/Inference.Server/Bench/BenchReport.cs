using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Inference.Server.Bench;

/// <summary>Aggregate numbers of a `bench serve` run, named like vLLM's benchmark_serving output.</summary>
public sealed record BenchReport(
    int Completed, int Failed, double DurationSeconds, long TotalInputTokens, long TotalOutputTokens,
    double RequestThroughput, double OutputThroughput, double TotalTokenThroughput,
    double MeanTtftMs, double P50TtftMs, double P99TtftMs, double MeanItlMs, double P50ItlMs, double P99ItlMs,
    double MeanE2eMs, string? FirstError)
{
    public static BenchReport From(IReadOnlyList<BenchRequestResult> results, double duration)
    {
        var ok = results.Where(r => r.Success).ToArray();
        var ttft = ok.Select(r => r.TimeToFirstToken * 1000).ToArray();
        var itl = ok.SelectMany(r => r.InterTokenLatencies).Select(x => x * 1000).ToArray();
        long input = ok.Sum(r => (long)r.PromptTokens), output = ok.Sum(r => (long)r.OutputTokens);
        double d = Math.Max(duration, 1e-9);
        return new BenchReport(ok.Length, results.Count - ok.Length, duration, input, output,
            ok.Length / d, output / d, (input + output) / d,
            Mean(ttft), Percentile(ttft, 50), Percentile(ttft, 99), Mean(itl), Percentile(itl, 50), Percentile(itl, 99),
            Mean(ok.Select(r => r.Latency * 1000).ToArray()), results.FirstOrDefault(r => !r.Success)?.Error);
    }

    private static double Mean(double[] xs) => xs.Length == 0 ? 0 : xs.Average();

    /// <summary>Linear interpolation between closest ranks, as numpy.percentile (what vLLM reports).</summary>
    public static double Percentile(double[] xs, double p)
    {
        if (xs.Length == 0) return 0;
        var sorted = xs.Order().ToArray();
        double rank = p / 100 * (sorted.Length - 1);
        int lo = (int)Math.Floor(rank), hi = (int)Math.Ceiling(rank);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
    }

    public string ToJson() => JsonSerializer.Serialize(new Dictionary<string, object?>
    {
        ["completed"] = Completed, ["failed"] = Failed, ["duration_s"] = Round(DurationSeconds),
        ["total_input_tokens"] = TotalInputTokens, ["total_output_tokens"] = TotalOutputTokens,
        ["request_throughput"] = Round(RequestThroughput), ["output_throughput"] = Round(OutputThroughput),
        ["total_token_throughput"] = Round(TotalTokenThroughput),
        ["mean_ttft_ms"] = Round(MeanTtftMs), ["p50_ttft_ms"] = Round(P50TtftMs), ["p99_ttft_ms"] = Round(P99TtftMs),
        ["mean_itl_ms"] = Round(MeanItlMs), ["p50_itl_ms"] = Round(P50ItlMs), ["p99_itl_ms"] = Round(P99ItlMs),
        ["mean_e2e_latency_ms"] = Round(MeanE2eMs), ["first_error"] = FirstError,
    });

    public string ToText()
    {
        var s = new StringBuilder();
        void Line(string name, string value) => s.AppendLine(CultureInfo.InvariantCulture, $"{name,-36}{value,14}");
        string F(double x) => x.ToString("F2", CultureInfo.InvariantCulture);
        s.AppendLine("============ Serving Benchmark Result ============");
        Line("Successful requests:", Completed.ToString(CultureInfo.InvariantCulture));
        Line("Failed requests:", Failed.ToString(CultureInfo.InvariantCulture));
        Line("Benchmark duration (s):", F(DurationSeconds));
        Line("Total input tokens:", TotalInputTokens.ToString(CultureInfo.InvariantCulture));
        Line("Total generated tokens:", TotalOutputTokens.ToString(CultureInfo.InvariantCulture));
        Line("Request throughput (req/s):", F(RequestThroughput));
        Line("Output token throughput (tok/s):", F(OutputThroughput));
        Line("Total token throughput (tok/s):", F(TotalTokenThroughput));
        s.AppendLine("---------------Time to First Token----------------");
        Line("Mean TTFT (ms):", F(MeanTtftMs));
        Line("Median TTFT (ms):", F(P50TtftMs));
        Line("P99 TTFT (ms):", F(P99TtftMs));
        s.AppendLine("---------------Inter-token Latency----------------");
        Line("Mean ITL (ms):", F(MeanItlMs));
        Line("Median ITL (ms):", F(P50ItlMs));
        Line("P99 ITL (ms):", F(P99ItlMs));
        s.AppendLine("==================================================");
        if (FirstError is not null) s.AppendLine($"first error: {FirstError}");
        return s.ToString();
    }

    private static double Round(double x) => Math.Round(x, 3);
}
