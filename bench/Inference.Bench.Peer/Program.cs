using System.Diagnostics;
using Inference.Bench.Peer;

// Ours vs llama.cpp (LLamaSharp) on the same weights: prefill and decode tokens/s at F32 / int8 / int4.
string? model = null, model1b = null;
string kv = "f32";
int threads = Environment.ProcessorCount, promptLen = 512, genLen = 128;
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--model": model = args[++i]; break;
        case "--model-1b": model1b = args[++i]; break;
        case "--kv-cache-dtype": kv = args[++i]; break;
        case "--threads": threads = int.Parse(args[++i]); break;
        case "--prompt": promptLen = int.Parse(args[++i]); break;
        case "--gen": genLen = int.Parse(args[++i]); break;
        case "--rounds": Timing.Runs = int.Parse(args[++i]); break;
        default: Console.Error.WriteLine($"unknown argument {args[i]}"); return 2;
    }
}
if (model is null)
{
    Console.Error.WriteLine("usage: Inference.Bench.Peer --model DIR [--model-1b DIR] [--kv-cache-dtype f32|f16] [--threads N] [--prompt 512] [--gen 128] [--rounds 5]");
    return 2;
}
if (Timing.Runs < 1)
{
    Console.Error.WriteLine($"--rounds must be at least 1, got {Timing.Runs}");
    return 2;
}
// A bad --kv-cache-dtype fails here, before minutes of measuring, with the engine's own message.
try
{
    Inference.Engine.EngineOptions.ParseKvCacheDType(kv);
}
catch (Inference.InferenceException e)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}
model = Path.GetFullPath(model);
var prompt = Ours.Prompt(model, promptLen);

var runs = new List<(string Dir, string Ours, string Peer)> { (model, "f32", "F32"), (model, "int8", "Q8_0"), (model, "int4", "Q4_0") };
if (model1b is not null) runs.Add((Path.GetFullPath(model1b), "int4", "Q4_0"));
var entries = new List<Entry>();
try
{
    foreach (var (dir, ours, peer) in runs)
    {
        string name = Path.GetFileName(dir);
        var p = dir == model ? prompt : Ours.Prompt(dir, promptLen);
        Console.Error.WriteLine($"loading {name}: ours {ours}, llama.cpp {peer}");
        var a = new Ours(dir, ours, kv, threads, p, genLen);
        IEngineRun b;
        try
        {
            b = LlamaCpp.Open(dir, peer, threads, p, genLen);
        }
        catch
        {
            a.Dispose();
            throw;
        }
        entries.Add(new Entry($"{name} {ours}", peer, a, b));
    }

    // Rounds: every engine and precision runs once per round (ours first on even rounds, llama.cpp on odd ones), so
    // each one's best of the rounds is drawn from the whole run's time, not from a few seconds of its own. Other
    // tenants' load on this shared machine comes in bursts that can outlast one precision's runs; spread out, every
    // row gets the same chances at a quiet moment. The read bandwidth is probed before every row of every round and
    // the F32 FMA peak once per round, and the highest readings are used: a probe that caught a busy moment would
    // flatter every fraction.
    using var probe = new Bandwidth(threads);
    double flops = 0;
    for (int round = 0; round <= Timing.Runs; round++)
    {
        flops = Math.Max(flops, ComputePeak.FlopsPerSecond(threads, repeats: 2));
        foreach (var e in entries)
        {
            double bw = probe.Measure(iterations: 3);
            Settle();
            // Alternate which engine goes first, so neither always follows the probe or the other engine.
            Times a, b;
            if (round % 2 == 0)
            {
                a = e.Ours.Iteration();
                Settle();
                b = e.Peer.Iteration();
            }
            else
            {
                b = e.Peer.Iteration();
                Settle();
                a = e.Ours.Iteration();
            }
            Settle();
            if (round == 0) continue; // warm-up
            e.Rounds.Add((a, b, bw));
        }
        Console.Error.WriteLine(round == 0
            ? $"warm-up round done; best so far: read bandwidth {probe.Best / 1e9:F1} GB/s, F32 FMA peak {flops / 1e9:F1} GFLOP/s"
            : $"round {round} of {Timing.Runs} done; best so far: read bandwidth {probe.Best / 1e9:F1} GB/s, F32 FMA peak {flops / 1e9:F1} GFLOP/s");
    }
    double bandwidth = probe.Best;
    var rows = entries.Select(e => new Row(e.OursName, e.PeerName,
        Entry.Fastest(e.Rounds.Select(x => x.Ours), promptLen, genLen, e.Ours),
        Entry.Fastest(e.Rounds.Select(x => x.Peer), promptLen, genLen, e.Peer))).ToList();
    // Every round's decode rates, to show how much the shared machine moved them.
    foreach (var e in entries)
        Console.Error.WriteLine($"{e.OursName} tg{genLen} tok/s per round: ours {string.Join(" ", e.Rounds.Select(x => (genLen / x.Ours.FromEmpty).ToString("F0")))}; " +
                                $"llama.cpp {e.PeerName} {string.Join(" ", e.Rounds.Select(x => (genLen / x.Peer.FromEmpty).ToString("F0")))}; " +
                                $"probe before the row, GB/s: {string.Join(" ", e.Rounds.Select(x => (x.Bandwidth / 1e9).ToString("F1")))}");
    foreach (var r in rows)
        Console.Error.WriteLine($"{r.OursName}: ours prefill {r.Ours.PrefillTps:F1}, decode {r.Ours.DecodeTps:F1}, from empty {r.Ours.DecodeFromEmptyTps:F1} tok/s; " +
                                $"llama.cpp {r.PeerName} {r.Peer.PrefillTps:F1}, {r.Peer.DecodeTps:F1}, {r.Peer.DecodeFromEmptyTps:F1}");

    Console.WriteLine($"threads {threads}, prompt {promptLen} tokens, decode {genLen} tokens (batch 1), our KV cache {kv} (llama.cpp: F16), " +
                      $"read bandwidth {bandwidth / 1e9:F1} GB/s and F32 FMA peak {flops / 1e9:F1} GFLOP/s (the best of {entries.Count * (Timing.Runs + 1)} bandwidth probes, one before each row of each round, and of {Timing.Runs + 1} FMA probes)");
    Console.WriteLine();
    // Decode as llama-bench's tg: genLen steps from an empty context, where a step streams the weights and little else,
    // so the weight roofline of the issue (weight bytes per token over the read bandwidth) is its ceiling.
    Console.WriteLine($"Prefill of the {promptLen}-token prompt, and decode of {genLen} tokens from an empty context (positions 0..{genLen - 1}, as llama-bench's tg{genLen}):");
    Console.WriteLine();
    // The roofline fraction is the strict one: our best rate over the best probe of the whole run. The paired one beside it
    // (median over rounds of each rate over the probe just before it) shows what the kernels reached of the bus as it
    // was at that moment.
    Console.WriteLine("| model, precision (ours / llama.cpp) | prefill tok/s ours | llama.cpp | ratio | decode tok/s ours | llama.cpp | ratio | weight roofline tok/s | ours % of roofline | paired % (median of rounds) |");
    Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (int i = 0; i < rows.Count; i++)
    {
        var r = rows[i];
        double roofline = bandwidth / r.Ours.WeightBytes;
        Console.WriteLine($"| {r.OursName} / {r.PeerName} | {r.Ours.PrefillTps:F1} | {r.Peer.PrefillTps:F1} | {r.Ours.PrefillTps / r.Peer.PrefillTps:F2}x | " +
                          $"{r.Ours.DecodeFromEmptyTps:F1} | {r.Peer.DecodeFromEmptyTps:F1} | {r.Ours.DecodeFromEmptyTps / r.Peer.DecodeFromEmptyTps:F2}x | {roofline:F1} | " +
                          $"{r.Ours.DecodeFromEmptyTps / roofline * 100:F0}% | {entries[i].PairedFraction(genLen) * 100:F0}% |");
    }
    Console.WriteLine();
    // After the prompt each step also reads the KV cache of 512+ positions (~21 MB per token at the 110m shape in 16-bit,
    // a fifth of int8's weights), so that decode's ceiling counts those bytes too; the weight-only fraction is shown beside it.
    Console.WriteLine($"Decode of {genLen} tokens after the {promptLen}-token prompt (positions {promptLen}..{promptLen + genLen - 1}):");
    Console.WriteLine();
    Console.WriteLine("| model, precision (ours / llama.cpp) | decode tok/s ours | llama.cpp | ratio | KV MB read per token | weights + KV roofline tok/s | ours % of it | paired % of it (median of rounds) | ours % of weight roofline |");
    Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (int i = 0; i < rows.Count; i++)
    {
        var r = rows[i];
        double roofline = bandwidth / (r.Ours.WeightBytes + r.Ours.KvBytesPerToken);
        double weightRoofline = bandwidth / r.Ours.WeightBytes;
        Console.WriteLine($"| {r.OursName} / {r.PeerName} | {r.Ours.DecodeTps:F1} | {r.Peer.DecodeTps:F1} | {r.Ours.DecodeTps / r.Peer.DecodeTps:F2}x | " +
                          $"{r.Ours.KvBytesPerToken / 1e6:F1} | {roofline:F1} | {r.Ours.DecodeTps / roofline * 100:F0}% | " +
                          $"{entries[i].PairedFraction(genLen, afterPrompt: true) * 100:F0}% | {r.Ours.DecodeTps / weightRoofline * 100:F0}% |");
    }
    Console.WriteLine();
    // Prefill's ceiling: the F32 rows are FMA work; the int rows run integer dots, whose peak this does not measure.
    foreach (var r in rows)
        if (r.OursName.EndsWith(" f32"))
        {
            double ceiling = flops / (2 * r.Ours.PrefillMacs / promptLen);
            Console.WriteLine($"{r.OursName} prefill: compute roofline {ceiling:F1} tok/s ({r.Ours.PrefillMacs / promptLen / 1e6:F1} M multiply-adds per token incl. attention); ours {r.Ours.PrefillTps / ceiling * 100:F0}%, llama.cpp {r.Peer.PrefillTps / ceiling * 100:F0}%");
        }
}
finally
{
    foreach (var e in entries)
    {
        e.Ours.Dispose();
        e.Peer.Dispose();
    }
}
return 0;

// Lets what just ran park its threads (ours spin ~0.2 ms, llama.cpp's OpenMP threads and the probe's thread pool longer)
// before the next one starts.
static void Settle() => Thread.Sleep(20);

namespace Inference.Bench.Peer
{
    /// <summary>
    /// One engine's speed on one precision; WeightBytes is what a decode step streams, PrefillMacs what the prompt costs.
    /// DecodeTps decodes after the prompt (context prompt..prompt+gen); DecodeFromEmptyTps from an empty context, as
    /// llama-bench's tg. KvBytesPerToken is the KV cache a step after the prompt reads, on average.
    /// </summary>
    public sealed record Result(double PrefillTps, double DecodeTps, long WeightBytes, double PrefillMacs = 0, double DecodeFromEmptyTps = 0,
        double KvBytesPerToken = 0);

    internal sealed record Row(string OursName, string PeerName, Result Ours, Result Peer);

    /// <summary>Seconds of one round: the prompt's prefill, the decode after it and the decode from an empty context.</summary>
    internal readonly record struct Times(double Prefill, double Decode, double FromEmpty);

    /// <summary>One engine on one model and precision, loaded once and timed once per round.</summary>
    internal interface IEngineRun : IDisposable
    {
        long WeightBytes { get; }
        double PrefillMacs { get; }
        double KvBytesPerToken { get; }
        Times Iteration();
    }

    internal sealed record Entry(string OursName, string PeerName, IEngineRun Ours, IEngineRun Peer)
    {
        /// <summary>Each timed round: both engines' times and the read bandwidth probed just before the row.</summary>
        public List<(Times Ours, Times Peer, double Bandwidth)> Rounds { get; } = [];

        /// <summary>An engine's rates from the fastest of its rounds for each of the three timings (the least disturbed).</summary>
        public static Result Fastest(IEnumerable<Times> rounds, int promptLen, int genLen, IEngineRun run) =>
            new(promptLen / rounds.Min(t => t.Prefill), genLen / rounds.Min(t => t.Decode), run.WeightBytes, run.PrefillMacs,
                genLen / rounds.Min(t => t.FromEmpty), run.KvBytesPerToken);

        /// <summary>
        /// Median over the rounds of our decode rate (tg, or after the prompt) against the probe taken before its row:
        /// how close each decode came to the bus as it was at that moment, so steady load from other tenants, which
        /// slows probe and decode alike, cancels out.
        /// </summary>
        public double PairedFraction(int genLen, bool afterPrompt = false)
        {
            // After the prompt a step reads the KV cache too, so its bytes per token count them.
            var f = Rounds.Select(x => afterPrompt
                ? genLen / x.Ours.Decode * (Ours.WeightBytes + Ours.KvBytesPerToken) / x.Bandwidth
                : genLen / x.Ours.FromEmpty * Ours.WeightBytes / x.Bandwidth).Order().ToArray();
            return f.Length % 2 == 1 ? f[f.Length / 2] : (f[f.Length / 2 - 1] + f[f.Length / 2]) / 2;
        }
    }

    /// <summary>
    /// Best of the rounds (five unless --rounds says otherwise): the machine is shared (an int8 decode swung 313-527
    /// tok/s within an hour), so the minimum time is the least disturbed.
    /// </summary>
    internal static class Timing
    {
        /// <summary>Timed rounds after the warm-up one (`--rounds`).</summary>
        public static int Runs { get; set; } = 5;

        public static double Seconds(Action a)
        {
            var sw = Stopwatch.StartNew();
            a();
            return sw.Elapsed.TotalSeconds;
        }
    }
}
