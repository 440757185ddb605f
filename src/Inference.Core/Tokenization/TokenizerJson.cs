using System.Text.Json;
using System.Text.Json.Nodes;

namespace Inference.Tokenization;

/// <summary>The managed view of tokenizer.json: vocabulary and added tokens, plus derived variants for the native library.</summary>
internal sealed class TokenizerJson
{
    public required string FilePath { get; init; }

    public required JsonObject Root { get; init; }

    public required IReadOnlyDictionary<string, int> Vocab { get; init; }

    public required IReadOnlyList<AddedToken> AddedTokens { get; init; }

    public static TokenizerJson Load(string path)
    {
        if (!File.Exists(path))
            throw new ModelFormatException(path, "file not found");
        JsonObject root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(path)) as JsonObject
                ?? throw new ModelFormatException(path, "expected a JSON object");
        }
        catch (JsonException e)
        {
            throw new ModelFormatException(path, "invalid JSON: " + e.Message, e);
        }

        if (root["model"] is not JsonObject model)
            throw new ModelFormatException(path, "missing \"model\"");
        var vocab = ReadVocab(path, model);
        var added = new List<AddedToken>();
        if (root["added_tokens"] is JsonArray addedArray)
        {
            foreach (var node in addedArray)
            {
                int? id = node?["id"]?.GetValue<int>();
                string? content = node?["content"]?.GetValue<string>();
                if (id is null || content is null)
                    throw new ModelFormatException(path, "added_tokens entry without id or content");
                added.Add(new AddedToken(id.Value, content, node?["special"]?.GetValue<bool>() ?? false));
            }
        }
        return new TokenizerJson { FilePath = path, Root = root, Vocab = vocab, AddedTokens = added };
    }

    private static Dictionary<string, int> ReadVocab(string path, JsonObject model)
    {
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        switch (model["vocab"])
        {
            // BPE, WordPiece, WordLevel: {"token": id}.
            case JsonObject map:
                foreach (var (token, id) in map)
                    vocab[token] = id?.GetValue<int>() ?? throw new ModelFormatException(path, $"vocab entry '{token}' has no id");
                break;
            // Unigram: [[piece, score], ...] where the id is the position.
            case JsonArray pieces:
                for (int i = 0; i < pieces.Count; i++)
                    vocab.TryAdd(pieces[i]?[0]?.GetValue<string>() ?? throw new ModelFormatException(path, $"vocab entry {i} has no piece"), i);
                break;
            default:
                throw new ModelFormatException(path, "model.vocab is missing");
        }
        return vocab;
    }

    /// <summary>A copy with another post_processor (null: none, which is what add_special_tokens=false means).</summary>
    public JsonObject WithPostProcessor(JsonNode? postProcessor)
    {
        var copy = (JsonObject)Root.DeepClone();
        copy["post_processor"] = postProcessor?.DeepClone();
        return copy;
    }

    /// <summary>
    /// A copy with no post-processor and no added token flagged special. The native decode always skips
    /// special tokens, so clearing the flag lets us decide about skipping in managed code; the flag does
    /// not affect encoding (only encode_special_tokens would, and it is off).
    /// </summary>
    public JsonObject WithoutSpecialsOrPostProcessor()
    {
        var copy = WithPostProcessor(null);
        if (copy["added_tokens"] is JsonArray added)
        {
            foreach (var node in added)
            {
                if (node is JsonObject token)
                    token["special"] = false;
            }
        }
        return copy;
    }
}
