using System.Text.Json;
using System.Text.Json.Nodes;

namespace Inference.Tokenization;

/// <summary>Reads the optional JSON side files of a model folder, naming the file in errors.</summary>
internal static class JsonFiles
{
    /// <summary>The file's top-level object, or null when the file does not exist.</summary>
    public static JsonObject? TryLoadObject(string path)
    {
        if (!File.Exists(path))
            return null;
        try
        {
            return JsonNode.Parse(File.ReadAllText(path)) as JsonObject
                ?? throw new ModelFormatException(path, "expected a JSON object");
        }
        catch (JsonException e)
        {
            throw new ModelFormatException(path, "invalid JSON: " + e.Message, e);
        }
    }

    /// <summary>A token given either as a string or as an AddedToken object {"content": ...}.</summary>
    public static string? TokenString(JsonNode? node) => node switch
    {
        JsonValue v when v.TryGetValue(out string? s) => s,
        JsonObject o => o["content"] is JsonValue c && c.TryGetValue(out string? s) ? s : null,
        _ => null,
    };

    public static T? Value<T>(string path, JsonObject obj, string key) where T : struct
    {
        if (obj[key] is not JsonValue value)
            return null;
        if (value.TryGetValue(out T result))
            return result;
        // Configs write 1 for 1.0 and occasionally 1.0 for integer fields.
        if (value.TryGetValue(out double d))
        {
            object converted = typeof(T) == typeof(int) && d == Math.Floor(d) ? (int)d
                : typeof(T) == typeof(float) ? (float)d
                : throw new ModelFormatException(path, $"\"{key}\" has the wrong type");
            return (T)converted;
        }
        throw new ModelFormatException(path, $"\"{key}\" has the wrong type");
    }

    /// <summary>An id given as one integer or a list of integers (eos_token_id).</summary>
    public static IReadOnlyList<int> IntOrList(string path, JsonObject obj, string key) => obj[key] switch
    {
        null => [],
        JsonArray list => list.Select(n => n is JsonValue v && v.TryGetValue(out int i) ? i
            : throw new ModelFormatException(path, $"\"{key}\" must hold integers")).ToArray(),
        JsonValue v when v.TryGetValue(out int i) => [i],
        _ => throw new ModelFormatException(path, $"\"{key}\" must be an integer or a list of integers"),
    };
}
