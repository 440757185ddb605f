using System.Text.Json.Nodes;

namespace Inference.Tokenization;

/// <summary>The parts of tokenizer_config.json (with special_tokens_map.json as fallback) that serving needs.</summary>
internal sealed record TokenizerConfig(
    string? BosToken,
    string? EosToken,
    bool? AddBosToken,
    bool? AddEosToken,
    string? ChatTemplate,
    string? TokenizerClass)
{
    // transformers rebuilds the post-processor of these fast tokenizers from add_bos_token/add_eos_token
    // (update_post_processor), so tokenizer.json's own post_processor is not what HF applies for them.
    private static readonly HashSet<string> s_classesWithBosEosFlags =
    [
        "LlamaTokenizer", "LlamaTokenizerFast", "CodeLlamaTokenizer", "CodeLlamaTokenizerFast",
        "GemmaTokenizer", "GemmaTokenizerFast",
    ];

    public bool RebuildsPostProcessor => TokenizerClass is not null && s_classesWithBosEosFlags.Contains(TokenizerClass);

    public static TokenizerConfig Load(string modelDir)
    {
        string path = Path.Combine(modelDir, "tokenizer_config.json");
        var config = JsonFiles.TryLoadObject(path) ?? [];
        var map = JsonFiles.TryLoadObject(Path.Combine(modelDir, "special_tokens_map.json")) ?? [];
        return new TokenizerConfig(
            JsonFiles.TokenString(config["bos_token"]) ?? JsonFiles.TokenString(map["bos_token"]),
            JsonFiles.TokenString(config["eos_token"]) ?? JsonFiles.TokenString(map["eos_token"]),
            JsonFiles.Value<bool>(path, config, "add_bos_token"),
            JsonFiles.Value<bool>(path, config, "add_eos_token"),
            ReadChatTemplate(path, config["chat_template"]) ?? ReadJinjaFile(modelDir),
            JsonFiles.TokenString(config["tokenizer_class"]));
    }

    private static string? ReadChatTemplate(string path, JsonNode? node)
    {
        switch (node)
        {
            case null:
                return null;
            case JsonValue v when v.TryGetValue(out string? s):
                return s;
            case JsonArray named:
                // Several named templates: [{"name": "default", "template": "..."}, {"name": "tool_use", ...}].
                foreach (var entry in named)
                {
                    if (entry?["name"]?.GetValue<string>() == "default")
                        return entry["template"]?.GetValue<string>();
                }
                return null;
            default:
                throw new ModelFormatException(path, "\"chat_template\" must be a string or a list of {name, template}");
        }
    }

    // Newer transformers save the template beside the config instead of inside it.
    private static string? ReadJinjaFile(string modelDir)
    {
        string path = Path.Combine(modelDir, "chat_template.jinja");
        return File.Exists(path) ? File.ReadAllText(path) : null;
    }

    /// <summary>The TemplateProcessing that transformers' update_post_processor builds for Llama-like classes.</summary>
    public JsonObject? BuildPostProcessor(Func<string, int?> tokenToId)
    {
        bool addBos = AddBosToken ?? true;
        bool addEos = AddEosToken ?? false;
        int? bosId = BosToken is null ? null : tokenToId(BosToken);
        int? eosId = EosToken is null ? null : tokenToId(EosToken);
        if ((addBos && bosId is null) || (addEos && eosId is null))
            return null;

        var single = new JsonArray();
        var pair = new JsonArray();
        var specials = new JsonObject();
        if (addBos)
            specials[BosToken!] = Special(BosToken!, bosId!.Value);
        if (addEos)
            specials[EosToken!] = Special(EosToken!, eosId!.Value);
        foreach ((string seq, int typeId, JsonArray target) in new[] { ("A", 0, single), ("A", 0, pair), ("B", 1, pair) })
        {
            if (addBos)
                target.Add(new JsonObject { ["SpecialToken"] = new JsonObject { ["id"] = BosToken, ["type_id"] = typeId } });
            target.Add(new JsonObject { ["Sequence"] = new JsonObject { ["id"] = seq, ["type_id"] = typeId } });
            if (addEos)
                target.Add(new JsonObject { ["SpecialToken"] = new JsonObject { ["id"] = EosToken, ["type_id"] = typeId } });
        }
        return new JsonObject { ["type"] = "TemplateProcessing", ["single"] = single, ["pair"] = pair, ["special_tokens"] = specials };

        static JsonObject Special(string token, int id) =>
            new() { ["id"] = token, ["ids"] = new JsonArray(id), ["tokens"] = new JsonArray(token) };
    }
}
