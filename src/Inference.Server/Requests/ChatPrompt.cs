using System.Text.Json;
using System.Text.Json.Nodes;
using Inference.Server.Errors;
using Inference.Templating;

namespace Inference.Server.Requests;

/// <summary>Renders messages with the model's chat template and encodes the result.</summary>
public static class ChatPrompt
{
    /// <summary>The rendered prompt text for messages, tools and chat_template_kwargs of a request.</summary>
    public static string Render(RequestReader r, ServedModel model, bool addGenerationPrompt)
    {
        var template = model.RequireChatTemplate();
        var messages = ChatMessages.Read(r);
        JsonArray? tools = r.Get("tools") is { } t
            ? t.ValueKind == JsonValueKind.Array ? (JsonArray)JsonNode.Parse(t.GetRawText())! : throw RequestReader.WrongType("tools", "an array", t)
            : null;
        JsonObject? extra = r.Get("chat_template_kwargs") is { } k
            ? k.ValueKind == JsonValueKind.Object ? (JsonObject)JsonNode.Parse(k.GetRawText())! : throw RequestReader.WrongType("chat_template_kwargs", "an object", k)
            : null;
        var tok = model.Tokenizer;
        try
        {
            return ChatTemplateRenderer.Apply(template, messages, addGenerationPrompt, tools, tok.BosToken, tok.EosToken, extra);
        }
        catch (TemplateException e)
        {
            // raise_exception messages are written for the user ("roles must alternate ..."); others get context.
            throw OpenAiException.BadRequest(e.RaisedByTemplate ? e.Message : $"the chat template failed: {e.Message}", "messages");
        }
    }

    /// <summary>Token ids of a rendered prompt: the template already wrote BOS, so no special tokens are added again.</summary>
    public static int[] Encode(string rendered, ServedModel model) => model.Tokenizer.Encode(rendered, addSpecialTokens: false);
}
