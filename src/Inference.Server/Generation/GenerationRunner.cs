using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Inference.Engine;
using Inference.Sampling;

namespace Inference.Server.Generation;

/// <summary>Runs every prompt of a request through the engine at once and merges their output streams.</summary>
public static class GenerationRunner
{
    /// <summary>
    /// Streams outputs as the engine produces them. Cancelling <paramref name="ct"/> (client disconnect) aborts the
    /// engine requests, and so does leaving the enumeration early, so their KV blocks are always freed.
    /// </summary>
    public static async IAsyncEnumerable<GenerationEvent> StreamAsync(LlmEngine engine, string id, IReadOnlyList<int[]> prompts,
        SamplingParams p, [EnumeratorCancellation] CancellationToken ct = default)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var readers = new List<ChannelReader<RequestOutput>>(prompts.Count);
        try
        {
            for (int i = 0; i < prompts.Count; i++)
                readers.Add(engine.AddRequest(prompts.Count == 1 ? id : $"{id}-{i}", prompts[i], p, cts.Token));
        }
        catch
        {
            await cts.CancelAsync(); // the prompts already queued must not run for nobody
            throw;
        }

        bool drained = false;
        try
        {
            // The engine finishes every request it accepted (aborted ones with FinishReason.Abort), so these reads end.
            if (readers.Count == 1)
            {
                await foreach (var o in readers[0].ReadAllAsync(CancellationToken.None))
                    yield return new GenerationEvent(0, o);
            }
            else
            {
                var merged = Channel.CreateUnbounded<GenerationEvent>(new UnboundedChannelOptions { SingleReader = true });
                var pumps = readers.Select((r, i) => Pump(r, i, merged.Writer)).ToArray();
                _ = Task.WhenAll(pumps).ContinueWith(t => merged.Writer.TryComplete(t.Exception), TaskScheduler.Default);
                await foreach (var e in merged.Reader.ReadAllAsync(CancellationToken.None))
                    yield return e;
            }
            drained = true;
        }
        finally
        {
            if (!drained) await cts.CancelAsync();
        }
    }

    private static async Task Pump(ChannelReader<RequestOutput> reader, int promptIndex, ChannelWriter<GenerationEvent> writer)
    {
        await foreach (var o in reader.ReadAllAsync(CancellationToken.None))
            writer.TryWrite(new GenerationEvent(promptIndex, o));
    }

    /// <summary>Runs to completion and gathers each choice (index = prompt_index * n + sample).</summary>
    public static async Task<GenerationResult> CollectAsync(LlmEngine engine, string id, IReadOnlyList<int[]> prompts,
        SamplingParams p, CancellationToken ct = default)
    {
        var choices = new ChoiceResult[prompts.Count * p.N];
        for (int i = 0; i < choices.Length; i++)
            choices[i] = new ChoiceResult(i, prompts[i / p.N]);
        await foreach (var e in StreamAsync(engine, id, prompts, p, ct))
        {
            ct.ThrowIfCancellationRequested();
            if (e.Output.Error is { } error) throw new GenerationFailedException(error);
            choices[e.PromptIndex * p.N + e.Output.Index].Add(e.Output);
        }
        ct.ThrowIfCancellationRequested();
        return new GenerationResult(choices, prompts.Sum(x => x.Length));
    }
}

/// <summary>The engine failed a request (a server-side problem, reported as 500).</summary>
public sealed class GenerationFailedException(string message) : Exception($"generation failed: {message}");
