using System.CommandLine;
using Inference.Engine;
using Inference.Models;

namespace Inference.Cli.Commands;

/// <summary>Options shared by the commands that load a model and run the engine.</summary>
internal sealed class CommonOptions
{
    public readonly Option<string?> Model = new("--model") { Description = "Hugging Face model folder (config.json, tokenizer.json, *.safetensors); default: the built-in tiny random model" };
    public readonly Option<string> Device = new("--device") { Description = "auto | cpu | cuda | ilgpu-cpu", DefaultValueFactory = _ => "auto" };
    public readonly Option<int> Threads = new("--threads") { Description = "CPU threads (default: all cores)", DefaultValueFactory = _ => 0 };
    public readonly Option<int> BlockSize = new("--block-size") { Description = "tokens per KV-cache block", DefaultValueFactory = _ => 16 };
    public readonly Option<long?> KvCacheMemory = new("--kv-cache-memory") { Description = "bytes for the KV cache (default: a share of free memory)" };
    public readonly Option<int> MaxNumBatchedTokens = new("--max-num-batched-tokens") { Description = "token budget per engine step", DefaultValueFactory = _ => 2048 };
    public readonly Option<int> MaxNumSeqs = new("--max-num-seqs") { Description = "most sequences per engine step", DefaultValueFactory = _ => 64 };
    public readonly Option<int?> MaxModelLen = new("--max-model-len") { Description = "context length limit (default: max_position_embeddings)" };
    public readonly Option<bool> NoPrefixCaching = new("--no-prefix-caching") { Description = "turn prefix caching off" };
    public readonly Option<string> KvCacheDType = new("--kv-cache-dtype") { Description = "KV cache element type: auto (f16 on CUDA, f32 on CPU) | f32 | f16 | bf16 (CPU backend)", DefaultValueFactory = _ => "auto" };
    public readonly Option<string?> Quantize = new("--quantize") { Description = "quantize weights at load: int8 | int4" };
    public readonly Option<int> QuantGroupSize = new("--quant-group-size") { Description = "int4 group size", DefaultValueFactory = _ => 32 };

    public void AddModelOptions(Command c)
    {
        c.Options.Add(Model);
        c.Options.Add(Device);
        c.Options.Add(Threads);
        c.Options.Add(Quantize);
        c.Options.Add(QuantGroupSize);
    }

    public void AddEngineOptions(Command c)
    {
        AddModelOptions(c);
        c.Options.Add(BlockSize);
        c.Options.Add(KvCacheMemory);
        c.Options.Add(MaxNumBatchedTokens);
        c.Options.Add(MaxNumSeqs);
        c.Options.Add(MaxModelLen);
        c.Options.Add(NoPrefixCaching);
        c.Options.Add(KvCacheDType);
    }

    public EngineOptions EngineOptions(ParseResult r) => new()
    {
        BlockSize = r.GetValue(BlockSize),
        KvCacheMemory = r.GetValue(KvCacheMemory),
        MaxNumBatchedTokens = r.GetValue(MaxNumBatchedTokens),
        MaxNumSeqs = r.GetValue(MaxNumSeqs),
        MaxModelLen = r.GetValue(MaxModelLen),
        EnablePrefixCaching = !r.GetValue(NoPrefixCaching),
        KvCacheDType = Engine.EngineOptions.ParseKvCacheDType(r.GetValue(KvCacheDType)),
    };

    /// <summary>The model folder to load: --model, or the built-in default generated on first use.</summary>
    public string ModelDir(ParseResult r) => r.GetValue(Model) ?? DefaultModel.Ensure(Log);

    public LoadedModel LoadModel(ParseResult r) =>
        LoadedModel.Load(ModelDir(r), Log, WeightSources.For(r.GetValue(Quantize), r.GetValue(QuantGroupSize)));

    public Kernels.IComputeBackend Backend(ParseResult r) => BackendFactory.Create(r.GetValue(Device)!, r.GetValue(Threads), Log);

    public static void Log(string message) => Console.Error.WriteLine(message);
}
