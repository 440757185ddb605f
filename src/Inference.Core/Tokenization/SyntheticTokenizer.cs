using System.Text.Json;

namespace Inference.Tokenization;

/// <summary>Writes a Llama-style tokenizer (tokenizer.json, tokenizer_config.json, special_tokens_map.json) of an exact vocabulary size for random-weight test models.</summary>
public static class SyntheticTokenizer
{
    /// <summary>The chat template of stories260K: plain "User:"/"Assistant:" turns.</summary>
    public const string ChatTemplate =
        "{{ bos_token }}{% for message in messages %}{% if message['role'] == 'system' %}{{ message['content'] | trim }}\n" +
        "{% elif message['role'] == 'user' %}User: {{ message['content'] | trim }}\n" +
        "{% elif message['role'] == 'assistant' %}Assistant: {{ message['content'] | trim }}{{ eos_token }}\n" +
        "{% endif %}{% endfor %}{% if add_generation_prompt %}Assistant:{% endif %}";

    private static readonly string[] s_specials = ["<unk>", "<s>", "</s>"];

    private const int ByteTokens = 256;

    /// <summary>Smallest vocabulary: the three special tokens, the 256 byte tokens and "▁".</summary>
    public const int MinVocabSize = 3 + ByteTokens + 1;

    public static void Write(string dir, int vocabSize, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(dir);
        ArgumentOutOfRangeException.ThrowIfLessThan(vocabSize, MinVocabSize);
        Directory.CreateDirectory(dir);
        var (alphabet, merges) = SyntheticBpe.Build(vocabSize - 3 - ByteTokens, seed);
        WriteTokenizerJson(Path.Combine(dir, "tokenizer.json"), alphabet, merges);
        WriteTokenizerConfig(Path.Combine(dir, "tokenizer_config.json"));
        WriteJson(Path.Combine(dir, "special_tokens_map.json"), w =>
        {
            foreach (var (key, token) in new[] { ("bos_token", "<s>"), ("eos_token", "</s>"), ("unk_token", "<unk>") })
            {
                w.WriteStartObject(key);
                WriteAddedTokenFlags(w, token);
                w.WriteEndObject();
            }
        });
    }

    // Same structure as the tokenizer.json that transformers writes for a SentencePiece Llama tokenizer.
    private static void WriteTokenizerJson(string path, List<string> alphabet, List<(string Left, string Right)> merges) =>
        WriteJson(path, w =>
        {
            w.WriteString("version", "1.0");
            w.WriteNull("truncation");
            w.WriteNull("padding");
            w.WriteStartArray("added_tokens");
            for (int id = 0; id < s_specials.Length; id++)
            {
                w.WriteStartObject();
                w.WriteNumber("id", id);
                WriteAddedTokenFlags(w, s_specials[id]);
                w.WriteEndObject();
            }
            w.WriteEndArray();

            w.WriteStartObject("normalizer");
            w.WriteString("type", "Sequence");
            w.WriteStartArray("normalizers");
            w.WriteStartObject(); w.WriteString("type", "Prepend"); w.WriteString("prepend", "▁"); w.WriteEndObject();
            w.WriteStartObject(); w.WriteString("type", "Replace");
            w.WriteStartObject("pattern"); w.WriteString("String", " "); w.WriteEndObject();
            w.WriteString("content", "▁"); w.WriteEndObject();
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteNull("pre_tokenizer");

            w.WriteStartObject("post_processor");
            w.WriteString("type", "TemplateProcessing");
            w.WriteStartArray("single");
            WriteTemplatePiece(w, "SpecialToken", "<s>", 0); WriteTemplatePiece(w, "Sequence", "A", 0);
            w.WriteEndArray();
            w.WriteStartArray("pair");
            WriteTemplatePiece(w, "SpecialToken", "<s>", 0); WriteTemplatePiece(w, "Sequence", "A", 0);
            WriteTemplatePiece(w, "SpecialToken", "<s>", 1); WriteTemplatePiece(w, "Sequence", "B", 1);
            w.WriteEndArray();
            w.WriteStartObject("special_tokens");
            w.WriteStartObject("<s>");
            w.WriteString("id", "<s>");
            w.WriteStartArray("ids"); w.WriteNumberValue(1); w.WriteEndArray();
            w.WriteStartArray("tokens"); w.WriteStringValue("<s>"); w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndObject();

            w.WriteStartObject("decoder");
            w.WriteString("type", "Sequence");
            w.WriteStartArray("decoders");
            w.WriteStartObject(); w.WriteString("type", "Replace");
            w.WriteStartObject("pattern"); w.WriteString("String", "▁"); w.WriteEndObject();
            w.WriteString("content", " "); w.WriteEndObject();
            w.WriteStartObject(); w.WriteString("type", "ByteFallback"); w.WriteEndObject();
            w.WriteStartObject(); w.WriteString("type", "Fuse"); w.WriteEndObject();
            w.WriteStartObject(); w.WriteString("type", "Strip"); w.WriteString("content", " ");
            w.WriteNumber("start", 1); w.WriteNumber("stop", 0); w.WriteEndObject();
            w.WriteEndArray();
            w.WriteEndObject();

            w.WriteStartObject("model");
            w.WriteString("type", "BPE");
            w.WriteNull("dropout");
            w.WriteString("unk_token", "<unk>");
            w.WriteNull("continuing_subword_prefix");
            w.WriteNull("end_of_word_suffix");
            w.WriteBoolean("fuse_unk", true);
            w.WriteBoolean("byte_fallback", true);
            w.WriteBoolean("ignore_merges", false);
            w.WriteStartObject("vocab");
            int next = 0;
            foreach (var special in s_specials)
                w.WriteNumber(special, next++);
            for (int b = 0; b < ByteTokens; b++)
                w.WriteNumber($"<0x{b:X2}>", next++);
            foreach (var symbol in alphabet)
                w.WriteNumber(symbol, next++);
            foreach (var (left, right) in merges)
                w.WriteNumber(left + right, next++);
            w.WriteEndObject();
            w.WriteStartArray("merges");
            // "left right" strings, as transformers writes them; symbols never contain a space (it became ▁).
            foreach (var (left, right) in merges)
                w.WriteStringValue(left + " " + right);
            w.WriteEndArray();
            w.WriteEndObject();
        });

    private static void WriteTokenizerConfig(string path) =>
        WriteJson(path, w =>
        {
            w.WriteBoolean("add_bos_token", true);
            w.WriteBoolean("add_eos_token", false);
            w.WriteStartObject("added_tokens_decoder");
            for (int id = 0; id < s_specials.Length; id++)
            {
                w.WriteStartObject(id.ToString(System.Globalization.CultureInfo.InvariantCulture));
                WriteAddedTokenFlags(w, s_specials[id]);
                w.WriteEndObject();
            }
            w.WriteEndObject();
            w.WriteString("bos_token", "<s>");
            w.WriteString("eos_token", "</s>");
            w.WriteString("unk_token", "<unk>");
            w.WriteNull("pad_token");
            w.WriteString("chat_template", ChatTemplate);
            w.WriteBoolean("clean_up_tokenization_spaces", false);
            w.WriteBoolean("legacy", true);
            w.WriteString("tokenizer_class", "LlamaTokenizer");
        });

    private static void WriteAddedTokenFlags(Utf8JsonWriter w, string content)
    {
        w.WriteString("content", content);
        w.WriteBoolean("single_word", false);
        w.WriteBoolean("lstrip", false);
        w.WriteBoolean("rstrip", false);
        w.WriteBoolean("normalized", false);
        w.WriteBoolean("special", true);
    }

    private static void WriteTemplatePiece(Utf8JsonWriter w, string kind, string id, int typeId)
    {
        w.WriteStartObject();
        w.WriteStartObject(kind);
        w.WriteString("id", id);
        w.WriteNumber("type_id", typeId);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void WriteJson(string path, Action<Utf8JsonWriter> body)
    {
        using var stream = File.Create(path);
        // Unescaped so the files read like the ones transformers writes ("▁" rather than "\u2581").
        using var writer = new Utf8JsonWriter(stream, new JsonWriterOptions
        {
            Indented = true,
            Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        });
        writer.WriteStartObject();
        body(writer);
        writer.WriteEndObject();
    }
}
