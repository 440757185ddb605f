using System.Diagnostics;
using LLama;
using LLama.Common;
using LLama.Native;

namespace Inference.Bench.Peer;

/// <summary>llama.cpp through LLamaSharp on a GGUF converted from the same safetensors.</summary>
internal static class LlamaCpp
{
    // ../shared beside the repository (found from the working directory upwards), as the tests find it.
    private static readonly string Converter = FindConverter();

    private static string FindConverter()
    {
        for (var d = new DirectoryInfo(Directory.GetCurrentDirectory()); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "Inference.sln")))
                return Path.GetFullPath(Path.Combine(d.FullName, "..", "shared", "tools", "gguf", "hf_to_gguf.py"));
        throw new InvalidOperationException("run from inside the repository: ../shared/tools/gguf/hf_to_gguf.py is found next to it");
    }

    /// <summary>Converts (once) and quantizes (once) next to the model, in a .gguf cache folder.</summary>
    public static string Gguf(string dir, string type)
    {
        string cache = Path.Combine(dir, ".gguf");
        Directory.CreateDirectory(cache);
        string f32 = Path.Combine(cache, "model-f32.gguf");
        if (!File.Exists(f32))
        {
            var psi = new ProcessStartInfo("/usr/bin/python3", [Converter, dir, f32 + ".tmp"]) { RedirectStandardOutput = true };
            using var p = Process.Start(psi)!;
            p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            if (p.ExitCode != 0) throw new InvalidOperationException($"{Converter} failed ({p.ExitCode}); is python3-numpy installed?");
            File.Move(f32 + ".tmp", f32);
        }
        if (type == "F32") return f32;
        string q = Path.Combine(cache, $"model-{type.ToLowerInvariant()}.gguf");
        if (!File.Exists(q))
        {
            var ftype = type == "Q8_0" ? LLamaFtype.MOSTLY_Q8_0 : LLamaFtype.MOSTLY_Q4_0;
            if (!LLamaQuantizer.Quantize(f32, q, ftype, nthread: Environment.ProcessorCount, allowRequantize: false, quantizeOutputTensor: true))
                throw new InvalidOperationException($"LLamaQuantizer failed for {type}");
        }
        return q;
    }

    public static Result Run(string dir, string type, int threads, int[] prompt, int genLen)
    {
        NativeLogConfig.llama_log_set((level, message) => { if (level == LLamaLogLevel.Error) Console.Error.Write(message); });
        string path = Gguf(dir, type);
        var p = new ModelParams(path)
        {
            ContextSize = (uint)(prompt.Length + genLen + 16),
            BatchSize = (uint)prompt.Length,
            UBatchSize = (uint)prompt.Length,
            Threads = threads,
            BatchThreads = threads,
            GpuLayerCount = 0,
        };
        using var weights = LLamaWeights.LoadFromFile(p);
        using var ctx = weights.CreateContext(p);
        var batch = new LLamaBatch();
        double prefill = double.MaxValue, decode = double.MaxValue, fromEmpty = double.MaxValue;
        int next = 0;
        for (int it = 0; it <= Timing.Runs; it++)
        {
            ctx.NativeHandle.MemoryClear();
            double pt = Timing.Seconds(() =>
            {
                batch.Clear();
                for (int i = 0; i < prompt.Length; i++) batch.Add(prompt[i], i, LLamaSeqId.Zero, i == prompt.Length - 1);
                Check(ctx.NativeHandle.Decode(batch));
                next = ArgMax(ctx.NativeHandle.GetLogitsIth(batch.TokenCount - 1));
            });
            double dt = Decode(prompt.Length);
            // As llama-bench's tg: decode from an empty context.
            ctx.NativeHandle.MemoryClear();
            next = prompt[0];
            double et = Decode(0);
            if (it == 0) continue;
            prefill = Math.Min(prefill, pt);
            decode = Math.Min(decode, dt);
            fromEmpty = Math.Min(fromEmpty, et);
        }
        return new Result(prompt.Length / prefill, genLen / decode, new FileInfo(path).Length, DecodeFromEmptyTps: genLen / fromEmpty);

        // genLen greedy steps at batch 1 from position start, fed from next.
        double Decode(int start) => Timing.Seconds(() =>
        {
            for (int i = 0; i < genLen; i++)
            {
                batch.Clear();
                batch.Add(next, start + i, LLamaSeqId.Zero, true);
                Check(ctx.NativeHandle.Decode(batch));
                next = ArgMax(ctx.NativeHandle.GetLogitsIth(0));
            }
        });
    }

    private static void Check(DecodeResult r)
    {
        if (r != DecodeResult.Ok) throw new InvalidOperationException($"llama_decode: {r}");
    }

    private static int ArgMax(Span<float> logits) => System.Numerics.Tensors.TensorPrimitives.IndexOfMax(logits);
}
