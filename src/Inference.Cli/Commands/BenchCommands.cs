using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using Inference.Engine;
using Inference.Execution;
using Inference.Models;
using Inference.Sampling;

namespace Inference.Cli.Commands;

/// <summary>`inference bench latency|throughput`: end-to-end speed of the engine on this machine.</summary>
internal static class BenchCommands
{
    public static Command Create()
    {
        var bench = new Command("bench", "Benchmarks");
        bench.Subcommands.Add(Latency());
        bench.Subcommands.Add(Throughput());
        bench.Subcommands.Add(Inference.Server.Bench.BenchServeCommand.Create());
        return bench;
    }


    private static Command Latency()
    {
        var common = new CommonOptions();
        var inputLen = new Option<int>("--input-len") { Description = "prompt tokens", DefaultValueFactory = _ => 128 };
        var outputLen = new Option<int>("--output-len") { Description = "generated tokens", DefaultValueFactory = _ => 128 };
        var iterations = new Option<int>("--iterations") { Description = "measured runs (the best is reported)", DefaultValueFactory = _ => 3 };
        var json = new Option<bool>("--json") { Description = "print one JSON line" };
        var cmd = new Command("latency", "Batch-1 prefill and decode tokens/s");
        common.AddModelOptions(cmd);
        cmd.Options.Add(common.KvCacheDType);
        foreach (var o in new Option[] { inputLen, outputLen, iterations, json }) cmd.Options.Add(o);
        cmd.SetAction(r =>
        {
            int inLen = r.GetValue(inputLen), outLen = r.GetValue(outputLen);
            if (inLen < 1 || outLen < 1) throw new InferenceException("--input-len and --output-len must be >= 1");
            var requestedKv = EngineOptions.ParseKvCacheDType(r.GetValue(common.KvCacheDType));
            using var model = common.LoadModel(r);
            if (inLen + outLen > model.Config.MaxPositionEmbeddings)
                throw new InferenceException($"--input-len + --output-len = {inLen + outLen} exceeds the model's context of {model.Config.MaxPositionEmbeddings}");
            using var backend = common.Backend(r);
            const int blockSize = 16;
            int blocks = (inLen + outLen + blockSize - 1) / blockSize + 1;
            var kvDType = requestedKv ?? backend.PreferredKvCacheDType;
            using var runner = new ModelRunner(new LlamaModel(backend, model.Weights, inLen, 1), blocks, blockSize, kvDType);
            var table = Enumerable.Range(1, blocks - 1).ToArray();
            var rng = new SeededRandom(1234);
            var prompt = rng.NextTokenIds(inLen, model.Config.VocabSize);
            double bestPrefill = double.MaxValue, bestDecode = double.MaxValue;
            int runs = Math.Max(1, r.GetValue(iterations));
            var token = new int[1];
            for (int it = 0; it <= runs; it++)
            {
                var sw = Stopwatch.StartNew();
                runner.BeginBatch();
                runner.AddSequence(prompt, 0, table, sample: true);
                token[0] = System.Numerics.Tensors.TensorPrimitives.IndexOfMax(runner.Execute());
                double prefill = sw.Elapsed.TotalSeconds;
                sw.Restart();
                for (int i = 0; i < outLen; i++)
                {
                    runner.BeginBatch();
                    runner.AddSequence(token, inLen + i, table, sample: true);
                    token[0] = System.Numerics.Tensors.TensorPrimitives.IndexOfMax(runner.Execute());
                }
                double decode = sw.Elapsed.TotalSeconds;
                if (it == 0) continue; // warm-up: JIT and page faults on the mapped weights
                bestPrefill = Math.Min(bestPrefill, prefill);
                bestDecode = Math.Min(bestDecode, decode);
            }
            double prefillTps = inLen / bestPrefill, decodeTps = outLen / bestDecode;
            if (r.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
                {
                    ["prefill_tokens_per_s"] = Math.Round(prefillTps, 2),
                    ["decode_tokens_per_s"] = Math.Round(decodeTps, 2),
                    ["input_len"] = inLen,
                    ["output_len"] = outLen,
                    ["threads"] = (backend as Kernels.Cpu.CpuBackend)?.Threads ?? 0,
                    ["device"] = backend.Name,
                    ["model"] = model.Name,
                    ["weight_bytes"] = model.Weights.MatrixBytes,
                }));
            }
            else
            {
                Console.WriteLine($"model {model.Name} on {backend.Name}: input {inLen}, output {outLen}, best of {runs}");
                Console.WriteLine($"prefill: {prefillTps,10:F1} tokens/s   ({bestPrefill * 1000:F1} ms)");
                Console.WriteLine($"decode:  {decodeTps,10:F1} tokens/s   ({bestDecode / outLen * 1000:F2} ms/token)");
            }
            return 0;
        });
        return cmd;
    }

    private static Command Throughput()
    {
        var common = new CommonOptions();
        var numPrompts = new Option<int>("--num-prompts") { Description = "requests", DefaultValueFactory = _ => 256 };
        var inputLen = new Option<int>("--input-len") { Description = "prompt tokens per request", DefaultValueFactory = _ => 256 };
        var outputLen = new Option<int>("--output-len") { Description = "generated tokens per request", DefaultValueFactory = _ => 128 };
        var seed = new Option<ulong>("--seed") { Description = "prompt seed", DefaultValueFactory = _ => 0UL };
        var json = new Option<bool>("--json") { Description = "print one JSON line" };
        var cmd = new Command("throughput", "Offline throughput: all prompts submitted at once through the engine");
        common.AddEngineOptions(cmd);
        foreach (var o in new Option[] { numPrompts, inputLen, outputLen, seed, json }) cmd.Options.Add(o);
        cmd.SetAction(r =>
        {
            int n = r.GetValue(numPrompts), inLen = r.GetValue(inputLen), outLen = r.GetValue(outputLen);
            if (n < 1 || inLen < 1 || outLen < 1) throw new InferenceException("--num-prompts, --input-len and --output-len must be >= 1");
            var engineOptions = common.EngineOptions(r);
            using var model = common.LoadModel(r);
            using var backend = common.Backend(r);
            using var engine = new LlmEngine(model, backend, engineOptions, CommonOptions.Log);
            var rng = new SeededRandom(r.GetValue(seed));
            var prompts = new int[n][];
            for (int i = 0; i < n; i++) prompts[i] = rng.NextTokenIds(inLen, model.Config.VocabSize);
            var p = new SamplingParams { Temperature = 0f, MaxTokens = outLen, IgnoreEos = true };
            var sw = Stopwatch.StartNew();
            var readers = new System.Threading.Channels.ChannelReader<RequestOutput>[n];
            for (int i = 0; i < n; i++) readers[i] = engine.AddRequest($"bench-{i}", prompts[i], p);
            long outTokens = 0;
            int done = 0;
            var progress = Stopwatch.StartNew();
            foreach (var reader in readers)
            {
                foreach (var o in reader.ReadAllAsync().ToBlockingEnumerable())
                {
                    if (o.Error is not null) throw new InferenceException($"request {o.RequestId} failed: {o.Error}");
                    if (o.Finished) { outTokens += o.CompletionTokens; done++; }
                }
                if (progress.Elapsed.TotalSeconds >= 5)
                {
                    Console.Error.WriteLine($"  {done}/{n} requests done, {sw.Elapsed.TotalSeconds:F0} s");
                    progress.Restart();
                }
            }
            double secs = sw.Elapsed.TotalSeconds;
            var stats = engine.GetStats();
            double rps = n / secs, otps = outTokens / secs, ttps = (outTokens + (long)n * inLen) / secs;
            if (r.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
                {
                    ["requests_per_s"] = Math.Round(rps, 3),
                    ["output_tokens_per_s"] = Math.Round(otps, 2),
                    ["total_tokens_per_s"] = Math.Round(ttps, 2),
                    ["elapsed_s"] = Math.Round(secs, 2),
                    ["num_prompts"] = n,
                    ["input_len"] = inLen,
                    ["output_len"] = outLen,
                    ["max_num_seqs"] = engine.Options.MaxNumSeqs,
                    ["preemptions"] = stats.Scheduler.NumPreemptionsTotal,
                    ["model"] = model.Name,
                }));
            }
            else
            {
                Console.WriteLine($"model {model.Name}: {n} prompts, input {inLen}, output {outLen}, max-num-seqs {engine.Options.MaxNumSeqs}");
                Console.WriteLine($"elapsed {secs:F1} s; {rps:F3} requests/s; {otps:F1} output tokens/s; {ttps:F1} total tokens/s; preemptions {stats.Scheduler.NumPreemptionsTotal}");
            }
            return 0;
        });
        return cmd;
    }
}
