using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Xunit.Abstractions;

namespace Inference.Server.Tests.Load;

/// <summary>
/// 64 concurrent streaming clients for a fixed time: every stream must end with [DONE] and give exactly the
/// text its prompt gives alone (greedy), so batching, preemption and prefix caching change nothing visible.
/// </summary>
[Collection(GrpcServerCollection.Name)]
public sealed class SseLoadTests(GrpcServerFixture server, ITestOutputHelper output)
{
    private const int Clients = 64;
    private const int MaxTokens = 24;

    /// <summary>INFERENCE_LOAD_TEST_SECONDS overrides the duration (the issue's 30 s by default).</summary>
    private static TimeSpan Duration =>
        TimeSpan.FromSeconds(double.TryParse(Environment.GetEnvironmentVariable("INFERENCE_LOAD_TEST_SECONDS"), NumberStyles.Float, CultureInfo.InvariantCulture, out var s) && s > 0 ? s : 30);

    private static readonly string[] Prompts = BuildPrompts();

    // Distinct prompts of different lengths, several sharing a prefix so the prefix cache is exercised too.
    private static string[] BuildPrompts()
    {
        string[] starts = ["Once upon a time", "Lily and Ben", "The little dog", "One day, a girl named Sue", "Tom had a red ball"];
        string[] ends = ["", " went to the park", " saw a big tree and", " was very happy because"];
        return [.. starts.SelectMany(s => ends.Select(e => s + e))];
    }

    [Fact]
    public async Task SixtyFourStreamingClients_CompleteEveryStream_WithTheirSoloText()
    {
        using var setup = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var solo = new Dictionary<string, string>();
        foreach (var p in Prompts)
        {
            var r = await SseCompletionClient.RunAsync(server.Http, p, MaxTokens, setup.Token);
            Assert.True(r.Done, $"solo run of '{p}' did not end with [DONE]");
            solo[p] = r.Text;
        }

        var duration = Duration;
        var errors = new ConcurrentQueue<string>();
        int completed = 0;
        var sw = Stopwatch.StartNew();
        // Clients stop starting new requests at the deadline; the grace period bounds the ones in flight.
        using var hard = new CancellationTokenSource(duration + TimeSpan.FromSeconds(60));
        var workers = Enumerable.Range(0, Clients).Select(c => Task.Run(async () =>
        {
            for (int i = 0; sw.Elapsed < duration && !hard.IsCancellationRequested; i++)
            {
                string p = Prompts[(c + i * 7) % Prompts.Length];
                try
                {
                    var r = await SseCompletionClient.RunAsync(server.Http, p, MaxTokens, hard.Token);
                    if (!r.Done) errors.Enqueue($"client {c}: stream for '{p}' ended without [DONE]");
                    else if (r.Text != solo[p]) errors.Enqueue($"client {c}: '{p}' gave '{r.Text}', alone '{solo[p]}'");
                    else if (r.FinishReason != "length") errors.Enqueue($"client {c}: finish_reason {r.FinishReason}");
                    else Interlocked.Increment(ref completed);
                }
                catch (Exception e)
                {
                    errors.Enqueue($"client {c}: {e.GetType().Name}: {e.Message}");
                }
            }
        })).ToArray();
        await Task.WhenAll(workers);
        output.WriteLine($"{completed} streams in {sw.Elapsed.TotalSeconds:F1} s ({completed / sw.Elapsed.TotalSeconds:F1}/s) with {Clients} clients");

        Assert.True(errors.IsEmpty, $"{errors.Count} failures, first: {string.Join("\n", errors.Take(5))}");
        Assert.True(completed >= Clients, $"only {completed} streams completed");
        await server.WaitIdleAsync(TimeSpan.FromSeconds(30));
    }
}
