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
        default: Console.Error.WriteLine($"unknown argument {args[i]}"); return 2;
    }
}
if (model is null)
{
    Console.Error.WriteLine("usage: Inference.Bench.Peer --model DIR [--model-1b DIR] [--kv-cache-dtype f32|f16] [--threads N] [--prompt 512] [--gen 128]");
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
// Read bandwidth is probed before and after the runs and the higher reading used: a probe taken while other tenants
// load the shared machine reads low, and a low reading would flatter every roofline fraction.
double bandwidthBefore = Bandwidth.Measure(threads);
Console.Error.WriteLine($"read bandwidth {bandwidthBefore / 1e9:F1} GB/s with {threads} threads");
double flops = ComputePeak.FlopsPerSecond(threads);
Console.Error.WriteLine($"F32 FMA peak {flops / 1e9:F1} GFLOP/s with {threads} threads");

var rows = new List<Row>();
var runs = new List<(string Dir, string Ours, string Peer)> { (model, "f32", "F32"), (model, "int8", "Q8_0"), (model, "int4", "Q4_0") };
if (model1b is not null) runs.Add((Path.GetFullPath(model1b), "int4", "Q4_0"));
foreach (var (dir, ours, peer) in runs)
{
    string name = Path.GetFileName(dir);
    var p = dir == model ? prompt : Ours.Prompt(dir, promptLen);
    var a = Ours.Run(dir, ours, kv, threads, p, genLen);
    Console.Error.WriteLine($"{name} ours {ours} (KV {kv}): prefill {a.PrefillTps:F1} tok/s, decode {a.DecodeTps:F1} tok/s, from empty {a.DecodeFromEmptyTps:F1} tok/s");
    var b = LlamaCpp.Run(dir, peer, threads, p, genLen);
    Console.Error.WriteLine($"{name} llama.cpp {peer}: prefill {b.PrefillTps:F1} tok/s, decode {b.DecodeTps:F1} tok/s, from empty {b.DecodeFromEmptyTps:F1} tok/s");
    rows.Add(new Row($"{name} {ours}", peer, a, b));
}

double bandwidthAfter = Bandwidth.Measure(threads);
Console.Error.WriteLine($"read bandwidth {bandwidthAfter / 1e9:F1} GB/s with {threads} threads (after the runs)");
double bandwidth = Math.Max(bandwidthBefore, bandwidthAfter);

Console.WriteLine($"threads {threads}, prompt {promptLen} tokens, decode {genLen} tokens (batch 1), our KV cache {kv} (llama.cpp: F16), " +
                  $"read bandwidth {bandwidth / 1e9:F1} GB/s (higher of {bandwidthBefore / 1e9:F1} before and {bandwidthAfter / 1e9:F1} after the runs), F32 FMA peak {flops / 1e9:F1} GFLOP/s");
Console.WriteLine();
// Decode as llama-bench's tg: genLen steps from an empty context, where a step streams the weights and little else,
// so the weight roofline of the issue (weight bytes per token over the read bandwidth) is its ceiling.
Console.WriteLine($"Prefill of the {promptLen}-token prompt, and decode of {genLen} tokens from an empty context (positions 0..{genLen - 1}, as llama-bench's tg{genLen}):");
Console.WriteLine();
Console.WriteLine("| model, precision (ours / llama.cpp) | prefill tok/s ours | llama.cpp | ratio | decode tok/s ours | llama.cpp | ratio | weight roofline tok/s | ours % of roofline |");
Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
foreach (var r in rows)
{
    double roofline = bandwidth / r.Ours.WeightBytes;
    Console.WriteLine($"| {r.OursName} / {r.PeerName} | {r.Ours.PrefillTps:F1} | {r.Peer.PrefillTps:F1} | {r.Ours.PrefillTps / r.Peer.PrefillTps:F2}x | " +
                      $"{r.Ours.DecodeFromEmptyTps:F1} | {r.Peer.DecodeFromEmptyTps:F1} | {r.Ours.DecodeFromEmptyTps / r.Peer.DecodeFromEmptyTps:F2}x | {roofline:F1} | {r.Ours.DecodeFromEmptyTps / roofline * 100:F0}% |");
}
Console.WriteLine();
// After the prompt each step also reads the KV cache of 512+ positions (~21 MB per token at the 110m shape in 16-bit,
// a fifth of int8's weights), so that decode's ceiling counts those bytes too; the weight-only fraction is shown beside it.
Console.WriteLine($"Decode of {genLen} tokens after the {promptLen}-token prompt (positions {promptLen}..{promptLen + genLen - 1}):");
Console.WriteLine();
Console.WriteLine("| model, precision (ours / llama.cpp) | decode tok/s ours | llama.cpp | ratio | KV MB read per token | weights + KV roofline tok/s | ours % of it | ours % of weight roofline |");
Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|");
foreach (var r in rows)
{
    double roofline = bandwidth / (r.Ours.WeightBytes + r.Ours.KvBytesPerToken);
    double weightRoofline = bandwidth / r.Ours.WeightBytes;
    Console.WriteLine($"| {r.OursName} / {r.PeerName} | {r.Ours.DecodeTps:F1} | {r.Peer.DecodeTps:F1} | {r.Ours.DecodeTps / r.Peer.DecodeTps:F2}x | " +
                      $"{r.Ours.KvBytesPerToken / 1e6:F1} | {roofline:F1} | {r.Ours.DecodeTps / roofline * 100:F0}% | {r.Ours.DecodeTps / weightRoofline * 100:F0}% |");
}
Console.WriteLine();
// Prefill's ceiling: the F32 rows are FMA work; the int rows run integer dots, whose peak this does not measure.
foreach (var r in rows)
    if (r.OursName.EndsWith(" f32"))
    {
        double ceiling = flops / (2 * r.Ours.PrefillMacs / promptLen);
        Console.WriteLine($"{r.OursName} prefill: compute roofline {ceiling:F1} tok/s ({r.Ours.PrefillMacs / promptLen / 1e6:F1} M multiply-adds per token incl. attention); ours {r.Ours.PrefillTps / ceiling * 100:F0}%, llama.cpp {r.Peer.PrefillTps / ceiling * 100:F0}%");
    }
return 0;

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

    /// <summary>Best of five runs: the machine is shared (an int8 decode swung 313-527 tok/s within an hour), so the minimum time is the least disturbed.</summary>
    internal static class Timing
    {
        public const int Runs = 5;

        public static double Seconds(Action a)
        {
            var sw = Stopwatch.StartNew();
            a();
            return sw.Elapsed.TotalSeconds;
        }
    }
}
