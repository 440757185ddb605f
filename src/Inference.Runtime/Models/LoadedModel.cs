using System.Diagnostics;
using Inference.Safetensors;
using Inference.Tokenization;

namespace Inference.Models;

/// <summary>A model folder opened for serving: config, tokenizer, generation defaults and mapped weights.</summary>
public sealed class LoadedModel : IDisposable
{
    public required string Directory { get; init; }
    public required string Name { get; init; }
    public required ModelConfig Config { get; init; }
    public required ITokenizer Tokenizer { get; init; }
    public required GenerationDefaults Defaults { get; init; }
    public required SafetensorsModel Files { get; init; }
    public required LlamaWeights Weights { get; init; }
    public TimeSpan LoadTime { get; init; }
    public long MappedBytes => Files.MappedBytes;

    /// <summary>Opens a model folder; every problem is a <see cref="ModelFormatException"/> naming the file.</summary>
    public static LoadedModel Load(string dir, Action<string>? log = null, Func<ModelConfig, SafetensorsModel, IWeightSource>? weightSource = null)
    {
        var sw = Stopwatch.StartNew();
        dir = Path.GetFullPath(dir);
        if (!System.IO.Directory.Exists(dir)) throw new InferenceException($"model folder '{dir}' does not exist");
        var config = ModelConfig.Load(dir);
        var tokenizer = TokenizerLoader.Load(dir);
        if (tokenizer.VocabSize > config.VocabSize)
            throw new ModelFormatException(Path.Combine(dir, "tokenizer.json"), $"tokenizer has {tokenizer.VocabSize} tokens but config.json vocab_size is {config.VocabSize}");
        var defaults = GenerationDefaults.Load(dir);
        var progress = log is null ? null : new SyncProgress<string>(log);
        var files = SafetensorsModel.Open(dir, progress);
        try
        {
            var weights = LlamaWeights.Load(config, files, weightSource?.Invoke(config, files) ?? WeightSources.Saved(config, files));
            var model = new LoadedModel
            {
                Directory = dir,
                Name = Path.GetFileName(dir.TrimEnd(Path.DirectorySeparatorChar)),
                Config = config,
                Tokenizer = tokenizer,
                Defaults = defaults,
                Files = files,
                Weights = weights,
                LoadTime = sw.Elapsed,
            };
            log?.Invoke($"loaded {model.Name}: {config.Architecture}, {config.NumLayers} layers, hidden {config.HiddenSize}, vocab {config.VocabSize}; " +
                        $"{files.MappedBytes / (1024.0 * 1024.0):F1} MiB mapped in {sw.Elapsed.TotalSeconds:F2} s");
            return model;
        }
        catch
        {
            files.Dispose();
            throw;
        }
    }

    /// <summary>End-of-sequence ids: config, tokenizer and generation_config together.</summary>
    public IReadOnlyList<int> EosTokenIds =>
        Config.EosTokenIds.Concat(Tokenizer.EosTokenIds).Concat(Defaults.EosTokenIds).Distinct().ToArray();

    public void Dispose()
    {
        Weights.Dispose();
        Files.Dispose();
    }
}
