using System.Text.Json;
using System.Text.Json.Nodes;
using HfNative = Tokenizers.DotNet.Tokenizer;

namespace Inference.Tokenization;

/// <summary>
/// One instance of Hugging Face's Rust tokenizers (via Tokenizers.DotNet). Its encode always applies the
/// post-processor and its decode always skips special tokens, so callers load variants of tokenizer.json.
/// </summary>
internal sealed class NativeTokenizer
{
    private readonly HfNative _native;

    private NativeTokenizer(HfNative native) => _native = native;

    /// <summary>Loads a tokenizer.json given as a JSON tree; <paramref name="sourcePath"/> names the file in errors.</summary>
    public static NativeTokenizer Load(JsonObject json, string sourcePath)
    {
        // The native library only loads from a file path.
        string temp = Path.Combine(Path.GetTempPath(), $"inference-tokenizer-{Guid.NewGuid():N}.json");
        try
        {
            using (var stream = File.Create(temp))
            using (var writer = new Utf8JsonWriter(stream))
                json.WriteTo(writer);
            return new NativeTokenizer(new HfNative(temp));
        }
        catch (Tokenizers.DotNet.TokenizerException e)
        {
            throw new ModelFormatException(sourcePath, "Hugging Face tokenizers could not load it: " + e.Message, e);
        }
        finally
        {
            File.Delete(temp);
        }
    }

    public int[] Encode(string text)
    {
        try
        {
            uint[] ids = _native.Encode(text);
            return Array.ConvertAll(ids, id => (int)id);
        }
        catch (Tokenizers.DotNet.TokenizerException e)
        {
            throw new InferenceException("tokenizer: cannot encode text: " + e.Message, e);
        }
    }

    public string Decode(uint[] ids)
    {
        // The binding passes a null pointer for an empty array, which the Rust side must never see.
        if (ids.Length == 0)
            return "";
        try
        {
            return _native.Decode(ids);
        }
        catch (Tokenizers.DotNet.TokenizerException e)
        {
            throw new InferenceException("tokenizer: cannot decode ids: " + e.Message, e);
        }
    }
}
