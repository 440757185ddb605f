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

    public static IEngineRun Open(string dir, string type, int threads, int[] prompt, int genLen)
    {
        NativeLogConfig.llama_log_set((level, message) => { if (level == LLamaLogLevel.Error) Console.Error.Write(message); });
        return new Session(Gguf(dir, type), threads, prompt, genLen);
    }

    /// <summary>One GGUF loaded with a context sized for the prompt and the decode.</summary>
    private sealed class Session : IEngineRun
    {
        private readonly LLamaWeights _weights;
        private readonly LLamaContext _ctx;
        private readonly LLamaBatch _batch = new();
        private readonly int[] _prompt;
        private readonly int _genLen;
        private int _next;

        public Session(string path, int threads, int[] prompt, int genLen)
        {
            _prompt = prompt;
            _genLen = genLen;
            var p = new ModelParams(path)
            {
                ContextSize = (uint)(prompt.Length + genLen + 16),
                BatchSize = (uint)prompt.Length,
                UBatchSize = (uint)prompt.Length,
                Threads = threads,
                BatchThreads = threads,
                GpuLayerCount = 0,
            };
            _weights = LLamaWeights.LoadFromFile(p);
            try
            {
                _ctx = _weights.CreateContext(p);
            }
            catch
            {
                _weights.Dispose();
                throw;
            }
            WeightBytes = new FileInfo(path).Length;
        }

        public long WeightBytes { get; }
        public double PrefillMacs => 0;
        public double KvBytesPerToken => 0;

        public Times Iteration()
        {
            _ctx.NativeHandle.MemoryClear();
            double pt = Timing.Seconds(() =>
            {
                _batch.Clear();
                for (int i = 0; i < _prompt.Length; i++) _batch.Add(_prompt[i], i, LLamaSeqId.Zero, i == _prompt.Length - 1);
                Check(_ctx.NativeHandle.Decode(_batch));
                _next = ArgMax(_ctx.NativeHandle.GetLogitsIth(_batch.TokenCount - 1));
            });
            double dt = Decode(_prompt.Length);
            // As llama-bench's tg: decode from an empty context.
            _ctx.NativeHandle.MemoryClear();
            _next = _prompt[0];
            double et = Decode(0);
            return new Times(pt, dt, et);
        }

        // genLen greedy steps at batch 1 from position start, fed from _next.
        private double Decode(int start) => Timing.Seconds(() =>
        {
            for (int i = 0; i < _genLen; i++)
            {
                _batch.Clear();
                _batch.Add(_next, start + i, LLamaSeqId.Zero, true);
                Check(_ctx.NativeHandle.Decode(_batch));
                _next = ArgMax(_ctx.NativeHandle.GetLogitsIth(0));
            }
        });

        public void Dispose()
        {
            _ctx.Dispose();
            _weights.Dispose();
        }
    }

    private static void Check(DecodeResult r)
    {
        if (r != DecodeResult.Ok) throw new InvalidOperationException($"llama_decode: {r}");
    }

    private static int ArgMax(Span<float> logits) => System.Numerics.Tensors.TensorPrimitives.IndexOfMax(logits);
}
