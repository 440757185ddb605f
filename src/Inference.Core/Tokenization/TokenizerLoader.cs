namespace Inference.Tokenization;

/// <summary>Loads the tokenizer of a Hugging Face model folder (tokenizer.json, tokenizer_config.json, generation_config.json).</summary>
public static class TokenizerLoader
{
    public static ITokenizer Load(string modelDir)
    {
        ArgumentNullException.ThrowIfNull(modelDir);
        var json = TokenizerJson.Load(Path.Combine(modelDir, "tokenizer.json"));
        var config = TokenizerConfig.Load(modelDir);
        var generation = GenerationDefaults.Load(modelDir);
        return new HfTokenizer(json, config, generation.EosTokenIds);
    }
}
