using System.Threading.Channels;
using Inference.Engine;
using Inference.Execution;
using Inference.Kernels;
using Inference.Kernels.Cpu;
using Inference.Models;
using Inference.Sampling;
using Inference.Scheduling;

namespace Inference.Tests.Engine;

/// <summary>stories260K, loaded once for all engine tests (weights are memory-mapped and read-only).</summary>
internal static class Stories
{
    private static readonly Lazy<LoadedModel> s_model = new(() => LoadedModel.Load(RepoPaths.Stories260K));

    public static LoadedModel Model => s_model.Value;

    /// <summary>Every wait in these tests is bounded by this, so a hang fails the test instead of blocking CI.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    /// <summary>KV memory for exactly <paramref name="blocks"/> blocks (the null block included).</summary>
    public static long KvBytesForBlocks(int blocks, int blockSize)
    {
        var c = Model.Config;
        return blocks * new KvCacheShape(c.NumLayers, 1, blockSize, c.NumKvHeads, c.HeadDim).BytesPerBlock(sizeof(float));
    }

    /// <summary>First id after the special tokens (0..2) and the 256 byte-fallback tokens (3..258) of stories260K.</summary>
    public const int FirstPieceId = 259;

    /// <summary>BOS then random word pieces from a seeded RNG (no byte-fallback tokens, so the prompt decodes to whole characters).</summary>
    public static int[] RandomPrompt(Random rng, int length)
    {
        var ids = new int[length];
        ids[0] = 1; // BOS, as the tokenizer would add
        for (int i = 1; i < length; i++) ids[i] = rng.Next(FirstPieceId, Model.Config.VocabSize);
        return ids;
    }
}

/// <summary>An engine on stories260K with its own CPU backend; disposes both.</summary>
internal sealed class TestEngine : IDisposable
{
    private readonly CpuBackend _backend;

    public LlmEngine Engine { get; }

    public TestEngine(EngineOptions options, int threads = 2, LoadedModel? model = null)
    {
        _backend = new CpuBackend(threads);
        Engine = new LlmEngine(model ?? Stories.Model, _backend, options);
    }

    public ChannelReader<RequestOutput> Add(string id, int[] prompt, SamplingParams p, CancellationToken ct = default) =>
        Engine.AddRequest(id, prompt, p, ct);

    /// <summary>Adds a request and collects every output it streams.</summary>
    public Task<Completion[]> RunAsync(string id, int[] prompt, SamplingParams p, CancellationToken ct = default) =>
        Completion.CollectAsync(Add(id, prompt, p, ct), prompt, p.N, id: id);

    /// <summary>Runs the requests one after another (each alone in the engine).</summary>
    public async Task<Completion[]> RunSequentiallyAsync(IReadOnlyList<(string Id, int[] Prompt, SamplingParams P)> requests)
    {
        var results = new List<Completion>();
        foreach (var (id, prompt, p) in requests)
            results.AddRange(await RunAsync(id, prompt, p));
        return results.ToArray();
    }

    /// <summary>Adds every request at once, then collects them all.</summary>
    public async Task<Completion[]> RunConcurrentlyAsync(IReadOnlyList<(string Id, int[] Prompt, SamplingParams P)> requests)
    {
        var tasks = requests.Select(r => Completion.CollectAsync(Add(r.Id, r.Prompt, r.P), r.Prompt, r.P.N, id: r.Id)).ToArray();
        var all = await Task.WhenAll(tasks).WaitAsync(Stories.Timeout);
        return all.SelectMany(x => x).ToArray();
    }

    /// <summary>
    /// Waits until the engine is idle with every block back in the free queue (free or cached-and-evictable).
    /// Stats are published at the end of a step, just after the last output is written, hence the polling.
    /// </summary>
    public EngineStats WaitForAllBlocksFree()
    {
        var deadline = DateTime.UtcNow + Stories.Timeout;
        while (true)
        {
            var s = Engine.GetStats().Scheduler;
            if (s.NumRunning == 0 && s.NumWaiting == 0 && s.NumFreeBlocks == Engine.NumBlocks - 1)
                return Engine.GetStats();
            if (DateTime.UtcNow > deadline)
                Assert.Fail($"blocks still held after every request ended: {s.NumFreeBlocks} of {Engine.NumBlocks - 1} free, " +
                            $"{s.NumRunning} running, {s.NumWaiting} waiting");
            Thread.Sleep(5);
        }
    }

    public void Dispose()
    {
        Engine.Dispose();
        _backend.Dispose();
    }
}

/// <summary>Everything one sequence (one Index of a request) streamed, checked for well-formedness as it arrives.</summary>
internal sealed class Completion
{
    public required string RequestId { get; init; }
    public required int Index { get; init; }
    public required int[] PromptTokenIds { get; init; }
    public List<int> TokenIds { get; } = [];
    public List<TokenLogprobs> Logprobs { get; } = [];
    public List<string> Deltas { get; } = [];
    public RequestOutput? Final { get; set; }

    public string Text => string.Concat(Deltas);
    public FinishReason? FinishReason => Final?.FinishReason;
    public object? StopReason => Final?.StopReason;

    public override string ToString() => $"{RequestId}[{Index}] {TokenIds.Count} tokens, {FinishReason}";

    /// <summary>Reads a request's channel to completion (bounded by <see cref="Stories.Timeout"/>), one Completion per index.</summary>
    public static async Task<Completion[]> CollectAsync(ChannelReader<RequestOutput> reader, int[] prompt, int n, Action<RequestOutput>? onOutput = null, string? id = null)
    {
        var byIndex = new Completion?[n];
        using var cts = new CancellationTokenSource(Stories.Timeout);
        try
        {
            await foreach (var o in reader.ReadAllAsync(cts.Token))
            {
                Assert.InRange(o.Index, 0, n - 1);
                var c = byIndex[o.Index] ??= new Completion { RequestId = o.RequestId, Index = o.Index, PromptTokenIds = prompt };
                Assert.True(c.Final is null, $"{c}: output after the final one");
                Assert.Equal(c.RequestId, o.RequestId);
                c.TokenIds.AddRange(o.TokenIds);
                if (o.Logprobs is not null) c.Logprobs.AddRange(o.Logprobs);
                c.Deltas.Add(o.TextDelta);
                Assert.Equal(prompt.Length, o.PromptTokens);
                if (o.Error is null)
                    Assert.Equal(c.TokenIds.Count, o.CompletionTokens);
                if (o.Finished)
                {
                    Assert.NotNull(o.FinishReason);
                    c.Final = o;
                }
                else Assert.Null(o.FinishReason);
                onOutput?.Invoke(o);
            }
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            Assert.Fail($"request {id ?? byIndex.FirstOrDefault(c => c is not null)?.RequestId ?? "?"} did not finish within {Stories.Timeout.TotalSeconds} s");
        }
        for (int i = 0; i < n; i++)
        {
            Assert.True(byIndex[i] is not null, $"no output for index {i}");
            Assert.True(byIndex[i]!.Final is not null, $"{byIndex[i]}: the channel completed without a final output");
        }
        return byIndex!;
    }
}

/// <summary>Exact comparisons: batch invariance means bit-identical, not close.</summary>
internal static class Same
{
    public static void Completions(Completion expected, Completion actual, string what)
    {
        Assert.True(expected.TokenIds.SequenceEqual(actual.TokenIds),
            $"{what}: tokens differ\n  expected {string.Join(',', expected.TokenIds)}\n  actual   {string.Join(',', actual.TokenIds)}");
        Logprobs(expected.Logprobs, actual.Logprobs, what);
        Assert.Equal(expected.Text, actual.Text);
        Assert.Equal(expected.FinishReason, actual.FinishReason);
        Assert.Equal(expected.StopReason, actual.StopReason);
        Assert.Equal(expected.Final!.CompletionTokens, actual.Final!.CompletionTokens);
    }

    public static void Logprobs(IReadOnlyList<TokenLogprobs> expected, IReadOnlyList<TokenLogprobs> actual, string what)
    {
        Assert.True(expected.Count == actual.Count, $"{what}: {actual.Count} logprobs entries, expected {expected.Count}");
        for (int i = 0; i < expected.Count; i++)
        {
            var (e, a) = (expected[i], actual[i]);
            bool same = e.TokenId == a.TokenId && Bits(e.Logprob) == Bits(a.Logprob) && e.Rank == a.Rank && e.Top.Count == a.Top.Count;
            for (int j = 0; same && j < e.Top.Count; j++)
                same = e.Top[j].TokenId == a.Top[j].TokenId && Bits(e.Top[j].Logprob) == Bits(a.Top[j].Logprob);
            Assert.True(same, $"{what}: logprobs of token {i} differ: expected {Show(e)}, actual {Show(a)}");
        }
    }

    private static int Bits(float f) => BitConverter.SingleToInt32Bits(f);

    private static string Show(TokenLogprobs l) =>
        $"{l.TokenId}:{l.Logprob:R} rank {l.Rank} top [{string.Join(' ', l.Top.Select(t => $"{t.TokenId}:{t.Logprob:R}"))}]";
}

/// <summary>Calls back on the engine thread after each step (1-based step count), to act at a known point of a run.</summary>
internal sealed class StepHook(Action<int, SchedulerStats> onStep) : IEngineObserver
{
    private int _steps;

    public void OnStep(int scheduledTokens, int promptTokens, int generationTokens, int preemptions, in SchedulerStats stats) =>
        onStep(++_steps, stats);

    public void OnInterTokenLatency(double seconds) { }

    public void OnRequestFinished(RequestMetrics metrics) { }
}
