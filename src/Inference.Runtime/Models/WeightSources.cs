using Inference.Safetensors;

namespace Inference.Models;

/// <summary>Picks how weights are taken from the files: as stored, or quantized at load.</summary>
public static class WeightSources
{
    public static Func<ModelConfig, SafetensorsModel, IWeightSource>? For(string? quantize, int groupSize)
    {
        if (quantize is null or "" or "none") return null;
        var spec = QuantizationSpec.Parse(quantize, groupSize);
        return (config, st) => config.QuantizationConfig is not null
            ? throw new InferenceException($"--quantize {quantize}: {st.Directory} is already quantized (quantization_config in config.json)")
            : new QuantizingWeightSource(st, spec);
    }

    /// <summary>The source for a folder written by `inference model quantize`, or null for a plain folder.</summary>
    public static IWeightSource? Saved(ModelConfig config, SafetensorsModel st) =>
        config.QuantizationConfig is { } q
            ? new QuantizedWeightSource(st, QuantizationSpec.FromJson(q, Path.Combine(st.Directory, "config.json")))
            : null;
}
