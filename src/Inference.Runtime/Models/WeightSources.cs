using Inference.Safetensors;

namespace Inference.Models;

/// <summary>Picks how weights are taken from the files: as stored, or quantized at load.</summary>
public static class WeightSources
{
    public static Func<ModelConfig, SafetensorsModel, IWeightSource>? For(string? quantize, int groupSize) => quantize switch
    {
        null or "" or "none" => null,
        _ => throw new InferenceException($"--quantize {quantize}: weight quantization is not available yet (supported: none)"),
    };
}
