using System.Diagnostics;
using Inference.Engine;
using Inference.Execution;
using Inference.Kernels;
using Inference.Kernels.Cpu;
using Inference.Models;

namespace Inference.Bench;

/// <summary>
/// `step-ops`: where a batch-1 decode step's time goes, op by op (matmuls by weight), on the CPU backend: prefill a
/// seeded random prompt, then time each op of the decode steps that follow. Prints a table per op kind.
/// </summary>
internal static class StepOps
{
    public const string Usage = "step-ops --model DIR [--quantize f32|int8|int4] [--kv-cache-dtype f32|f16|bf16] [--threads N] [--prompt 512] [--gen 128]";

    public static int Run(string[] args)
    {
        string? dir = null, quantize = "f32", kv = "bf16";
        int threads = 0, promptLen = 512, genLen = 128;
        try
        {
            for (int i = 0; i < args.Length; i++)
            {
                string Next() => i + 1 < args.Length ? args[++i] : throw new FormatException($"{args[i]} needs a value");
                switch (args[i])
                {
                    case "--model": dir = Next(); break;
                    case "--quantize": quantize = Next(); break;
                    case "--kv-cache-dtype": kv = Next(); break;
                    case "--threads": threads = int.Parse(Next()); break;
                    case "--prompt": promptLen = int.Parse(Next()); break;
                    case "--gen": genLen = int.Parse(Next()); break;
                    default: throw new FormatException($"unknown argument {args[i]}");
                }
            }
            if (dir is null) throw new FormatException("--model is required");
            if (promptLen < 1 || genLen < 1) throw new FormatException("--prompt and --gen must be at least 1");
        }
        catch (FormatException e)
        {
            Console.Error.WriteLine($"{e.Message}; usage: {Usage}");
            return 2;
        }
        using var model = LoadedModel.Load(dir, Console.Error.WriteLine, WeightSources.For(quantize == "f32" ? null : quantize, 32));
        var cpu = new CpuBackend(threads);
        using var timed = new TimedBackend(cpu, w => ShortName(w.Name));
        const int blockSize = 16;
        int blocks = (promptLen + genLen + blockSize - 1) / blockSize + 1;
        using var runner = new ModelRunner(new LlamaModel(timed, model.Weights, promptLen, 1), blocks, blockSize,
            EngineOptions.ParseKvCacheDType(kv) ?? KvCacheDType.F32);
        var table = Enumerable.Range(1, blocks - 1).ToArray();
        var prompt = new SeededRandom(1234).NextTokenIds(promptLen, model.Config.VocabSize);
        var token = new int[1];
        (string Op, double Seconds)[] best = [];
        double bestStep = double.MaxValue;
        // A warm-up round, then the least disturbed of three (the machine is shared).
        for (int round = 0; round < 4; round++)
        {
            runner.BeginBatch();
            runner.AddSequence(prompt, 0, table, sample: true);
            token[0] = System.Numerics.Tensors.TensorPrimitives.IndexOfMax(runner.Execute());
            timed.Reset();
            var sw = Stopwatch.StartNew();
            for (int i = 0; i < genLen; i++)
            {
                runner.BeginBatch();
                runner.AddSequence(token, prompt.Length + i, table, sample: true);
                token[0] = System.Numerics.Tensors.TensorPrimitives.IndexOfMax(runner.Execute());
            }
            double step = sw.Elapsed.TotalSeconds / genLen;
            Console.Error.WriteLine($"round {round}: {step * 1e3:F3} ms per decode step{(round == 0 ? " (warm-up)" : "")}");
            if (round == 0 || step >= bestStep) continue;
            bestStep = step;
            best = timed.Times.ToArray();
        }
        double accounted = best.Sum(t => t.Seconds) / genLen;
        Console.WriteLine($"{new DirectoryInfo(Path.GetFullPath(dir)).Name} {quantize}, KV {kv}, {cpu.Threads} threads: decode after a {promptLen}-token prompt, " +
                          $"{genLen} steps at batch 1, {bestStep * 1e3:F3} ms per step ({1 / bestStep:F1} tok/s)");
        Console.WriteLine();
        Console.WriteLine("| op | us per step | share of step |");
        Console.WriteLine("|---|---:|---:|");
        foreach (var (op, seconds) in best)
            Console.WriteLine($"| {op} | {seconds / genLen * 1e6:F0} | {seconds / genLen / bestStep * 100:F1}% |");
        Console.WriteLine($"| (outside the backend ops: sampling, step metadata, timing) | {(bestStep - accounted) * 1e6:F0} | {(bestStep - accounted) / bestStep * 100:F1}% |");
        return 0;
    }

    /// <summary>q_proj, down_proj, lm_head...: the weight's own name without its layer.</summary>
    private static string ShortName(string name)
    {
        string n = name.EndsWith(".weight", StringComparison.Ordinal) ? name[..^".weight".Length] : name;
        int dot = n.LastIndexOf('.');
        return dot < 0 ? n : n[(dot + 1)..];
    }
}
