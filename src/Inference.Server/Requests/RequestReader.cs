using System.Text.Json;
using Inference.Server.Errors;

namespace Inference.Server.Requests;

/// <summary>Typed access to the fields of a request's JSON object; every wrong type or range is a 400 naming the field.</summary>
public readonly struct RequestReader
{
    public JsonElement Root { get; }

    public RequestReader(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
            throw OpenAiException.BadRequest($"the request body must be a JSON object, got {Kind(root)}");
        Root = root;
    }

    /// <summary>The field's value, or null when it is absent or JSON null (OpenAI treats both as "not given").</summary>
    public JsonElement? Get(string name) =>
        Root.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

    public string? String(string name)
    {
        if (Get(name) is not { } v) return null;
        return v.ValueKind == JsonValueKind.String ? v.GetString() : throw WrongType(name, "a string", v);
    }

    public bool? Bool(string name)
    {
        if (Get(name) is not { } v) return null;
        return v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw WrongType(name, "a boolean", v),
        };
    }

    public double? Number(string name)
    {
        if (Get(name) is not { } v) return null;
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetDouble(out double d) || !double.IsFinite(d))
            throw WrongType(name, "a number", v);
        return d;
    }

    public float? Float(string name, double min, double max)
    {
        if (Number(name) is not { } d) return null;
        if (d < min || d > max) throw OpenAiException.BadRequest($"'{name}' must be in [{min}, {max}], got {d}", name);
        return (float)d;
    }

    public long? Long(string name)
    {
        if (Get(name) is not { } v) return null;
        if (v.ValueKind != JsonValueKind.Number) throw WrongType(name, "an integer", v);
        if (v.TryGetInt64(out long l)) return l;
        // 5.0 is an integer to Python clients; 5.5 is not.
        if (v.TryGetDouble(out double d) && d == Math.Floor(d) && Math.Abs(d) < 9e15) return (long)d;
        throw WrongType(name, "an integer", v);
    }

    public int? Int(string name, int min, int max)
    {
        if (Long(name) is not { } l) return null;
        if (l < min || l > max) throw OpenAiException.BadRequest($"'{name}' must be in [{min}, {max}], got {l}", name);
        return (int)l;
    }

    /// <summary>A string or an array of strings (OpenAI's "stop").</summary>
    public IReadOnlyList<string> StringOrList(string name, int maxItems)
    {
        if (Get(name) is not { } v) return [];
        if (v.ValueKind == JsonValueKind.String) return [v.GetString()!];
        if (v.ValueKind != JsonValueKind.Array) throw WrongType(name, "a string or an array of strings", v);
        var list = new List<string>();
        foreach (var item in v.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String) throw WrongType(name, "a string or an array of strings", item);
            list.Add(item.GetString()!);
        }
        if (list.Count > maxItems) throw OpenAiException.BadRequest($"'{name}' may hold at most {maxItems} items, got {list.Count}", name);
        return list;
    }

    public static OpenAiException WrongType(string name, string expected, JsonElement got) =>
        OpenAiException.BadRequest($"'{name}' must be {expected}, got {Kind(got)}", name);

    public static string Kind(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => $"the number {e.GetRawText()}",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => e.ValueKind.ToString(),
    };
}
