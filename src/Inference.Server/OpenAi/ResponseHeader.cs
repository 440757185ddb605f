using System.Text.Json.Nodes;

namespace Inference.Server.OpenAi;

/// <summary>The id, object type, creation time and model that every response and chunk of one request repeats.</summary>
public sealed record ResponseHeader(string Id, string Object, long Created, string Model)
{
    public static ResponseHeader New(string idPrefix, string objectType, string model) =>
        new(OpenAiJson.NewId(idPrefix), objectType, OpenAiJson.UnixNow(), model);

    public JsonObject Start() => new()
    {
        ["id"] = Id,
        ["object"] = Object,
        ["created"] = Created,
        ["model"] = Model,
    };

    /// <summary>The stream_options.include_usage chunk: empty choices, usage filled in.</summary>
    public JsonObject UsageChunk(int promptTokens, int completionTokens)
    {
        var o = Start();
        o["choices"] = new JsonArray();
        o["usage"] = Usage.Json(promptTokens, completionTokens);
        return o;
    }
}
