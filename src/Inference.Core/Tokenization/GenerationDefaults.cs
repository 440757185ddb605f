namespace Inference.Tokenization;

/// <summary>Sampling defaults of generation_config.json; every field is optional.</summary>
public sealed record GenerationDefaults(
    float? Temperature,
    float? TopP,
    int? TopK,
    float? RepetitionPenalty,
    int? MaxNewTokens,
    IReadOnlyList<int> EosTokenIds)
{
    public static GenerationDefaults Load(string modelDir)
    {
        string path = Path.Combine(modelDir, "generation_config.json");
        var json = JsonFiles.TryLoadObject(path);
        if (json is null)
            return new GenerationDefaults(null, null, null, null, null, []);
        // Like vLLM, the values are taken as they are; do_sample=false does not turn temperature off here.
        return new GenerationDefaults(
            JsonFiles.Value<float>(path, json, "temperature"),
            JsonFiles.Value<float>(path, json, "top_p"),
            JsonFiles.Value<int>(path, json, "top_k"),
            JsonFiles.Value<float>(path, json, "repetition_penalty"),
            JsonFiles.Value<int>(path, json, "max_new_tokens"),
            JsonFiles.IntOrList(path, json, "eos_token_id"));
    }
}
