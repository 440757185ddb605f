using System.Text.Json.Nodes;

namespace Inference.Templating;

/// <summary>A parsed Jinja2 chat template; parse once, render many times (Render is thread-safe).</summary>
public sealed class ChatTemplate
{
    private readonly IReadOnlyList<Node> _body;

    private ChatTemplate(IReadOnlyList<Node> body) => _body = body;

    /// <summary>Parses template text exactly as shipped (no newline normalisation or trimming needed).</summary>
    /// <exception cref="TemplateException">The template has a syntax error; Line says where.</exception>
    public static ChatTemplate Parse(string source)
    {
        ArgumentNullException.ThrowIfNull(source);
        return new ChatTemplate(Parser.Parse(source));
    }

    /// <summary>
    /// Renders with the given variables. Values may be JsonNode, string, bool, numbers, null (Python None),
    /// dictionaries and sequences; a variable that is absent is undefined, which is not the same as null.
    /// </summary>
    public string Render(IReadOnlyDictionary<string, object?> variables)
    {
        ArgumentNullException.ThrowIfNull(variables);
        return new Evaluator(variables).Render(_body);
    }

    /// <summary>Renders with each property of a JSON object as a variable, keeping object key order.</summary>
    public string Render(JsonObject variables)
    {
        ArgumentNullException.ThrowIfNull(variables);
        return new Evaluator(variables.Select(p => new KeyValuePair<string, object?>(p.Key, p.Value))).Render(_body);
    }
}

/// <summary>Builds the variables transformers' apply_chat_template passes and renders a chat template with them.</summary>
public static class ChatTemplateRenderer
{
    /// <summary>
    /// Renders like apply_chat_template(tokenize=False): messages, tools (None when null), documents (None),
    /// add_generation_prompt, bos_token and eos_token (only when not null), then the extra variables,
    /// which may override the others.
    /// </summary>
    public static string Apply(ChatTemplate template, JsonArray messages, bool addGenerationPrompt, JsonArray? tools,
        string? bosToken, string? eosToken, JsonObject? extra = null)
    {
        ArgumentNullException.ThrowIfNull(template);
        ArgumentNullException.ThrowIfNull(messages);
        var variables = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["messages"] = messages,
            ["tools"] = tools,
            ["documents"] = null,
            ["add_generation_prompt"] = addGenerationPrompt,
        };
        // transformers passes the tokenizer's special tokens map, which leaves out tokens the model lacks.
        if (bosToken is not null) variables["bos_token"] = bosToken;
        if (eosToken is not null) variables["eos_token"] = eosToken;
        if (extra is not null)
            foreach (var (name, value) in extra)
                variables[name] = value;
        return template.Render(variables);
    }
}
