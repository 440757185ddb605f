using System.Text.Json;
using System.Text.Unicode;

namespace Inference.Safetensors;

/// <summary>model.safetensors.index.json: which shard file holds each tensor.</summary>
internal sealed class SafetensorsIndex
{
    public const string FileName = "model.safetensors.index.json";

    /// <summary>Tensor name to shard file name, in the order the index lists them.</summary>
    public required List<KeyValuePair<string, string>> WeightMap { get; init; }

    public static SafetensorsIndex Load(string indexPath)
    {
        JsonDocument doc;
        try
        {
            byte[] bytes = File.ReadAllBytes(indexPath);
            // The parser only checks UTF-8 lazily, when a string is read, and then throws InvalidOperationException.
            if (!Utf8.IsValid(bytes))
                throw new ModelFormatException(indexPath, "is not valid UTF-8");
            doc = JsonDocument.Parse(bytes);
        }
        catch (JsonException e)
        {
            throw new ModelFormatException(indexPath, $"malformed JSON: {e.Message}", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelFormatException(indexPath, $"cannot read: {e.Message}", e);
        }

        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new ModelFormatException(indexPath, $"must be a JSON object, found {doc.RootElement.ValueKind}");
            if (!doc.RootElement.TryGetProperty("weight_map", out JsonElement map) || map.ValueKind != JsonValueKind.Object)
                throw new ModelFormatException(indexPath, "has no 'weight_map' object");

            var entries = new List<KeyValuePair<string, string>>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (JsonProperty p in map.EnumerateObject())
            {
                if (p.Value.ValueKind != JsonValueKind.String)
                    throw new ModelFormatException(indexPath, $"weight_map value must be a shard file name, found {p.Value.ValueKind}", p.Name);
                string shard = p.Value.GetString()!;
                // Shards are plain names beside the index; anything else could reach outside the model folder.
                if (shard.Length == 0 || shard != Path.GetFileName(shard) || shard is "." or "..")
                    throw new ModelFormatException(indexPath, $"shard '{shard}' must be a file name in the model folder", p.Name);
                if (!seen.Add(p.Name))
                    throw new ModelFormatException(indexPath, "listed twice in weight_map", p.Name);
                entries.Add(new(p.Name, shard));
            }
            if (entries.Count == 0)
                throw new ModelFormatException(indexPath, "weight_map is empty");
            return new SafetensorsIndex { WeightMap = entries };
        }
    }
}
