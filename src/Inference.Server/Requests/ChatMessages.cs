using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Inference.Server.Errors;

namespace Inference.Server.Requests;

/// <summary>Turns a request's "messages" into what chat templates expect: content as one string per message.</summary>
public static class ChatMessages
{
    private static readonly HashSet<string> s_roles = ["system", "developer", "user", "assistant", "tool"];

    public static JsonArray Read(RequestReader r, string name = "messages")
    {
        if (r.Get(name) is not { } v) throw OpenAiException.BadRequest($"'{name}' is required", name);
        if (v.ValueKind != JsonValueKind.Array) throw RequestReader.WrongType(name, "an array of messages", v);
        if (v.GetArrayLength() == 0) throw OpenAiException.BadRequest($"'{name}' must hold at least one message", name);
        var messages = new JsonArray();
        int i = 0;
        foreach (var m in v.EnumerateArray())
        {
            string at = $"{name}[{i++}]";
            if (m.ValueKind != JsonValueKind.Object) throw RequestReader.WrongType(at, "a message object", m);
            var message = new RequestReader(m);
            string role = message.String("role") ?? throw OpenAiException.BadRequest($"'{at}.role' is required", $"{at}.role");
            if (!s_roles.Contains(role))
                throw OpenAiException.BadRequest($"'{at}.role' must be one of {string.Join(", ", s_roles)}; got '{role}'", $"{at}.role");
            // Other fields (name, tool_calls, tool_call_id) go to the template untouched; key order is kept.
            var obj = (JsonObject)JsonNode.Parse(m.GetRawText())!;
            if (m.TryGetProperty("content", out var content))
                obj["content"] = Content(content, $"{at}.content");
            messages.Add(obj);
        }
        return messages;
    }

    // null stays null (an assistant turn with tool_calls); a parts array is joined into one string.
    private static JsonNode? Content(JsonElement content, string at)
    {
        switch (content.ValueKind)
        {
            case JsonValueKind.Null:
                return null;
            case JsonValueKind.String:
                return JsonValue.Create(content.GetString());
            case JsonValueKind.Array:
                var text = new StringBuilder();
                int i = 0;
                foreach (var part in content.EnumerateArray())
                {
                    string partAt = $"{at}[{i++}]";
                    if (part.ValueKind != JsonValueKind.Object) throw RequestReader.WrongType(partAt, "a content part object", part);
                    var p = new RequestReader(part);
                    string type = p.String("type") ?? throw OpenAiException.BadRequest($"'{partAt}.type' is required", $"{partAt}.type");
                    if (type != "text") throw OpenAiException.BadRequest($"content part type '{type}' is not supported (only 'text')", $"{partAt}.type");
                    text.Append(p.String("text") ?? throw OpenAiException.BadRequest($"'{partAt}.text' is required", $"{partAt}.text"));
                }
                return JsonValue.Create(text.ToString());
            default:
                throw RequestReader.WrongType(at, "a string or an array of content parts", content);
        }
    }
}
