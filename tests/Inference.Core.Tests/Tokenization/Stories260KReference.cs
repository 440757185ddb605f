using System.Text.Json;

namespace Inference.Tests.Tokenization;

/// <summary>The greedy cases and encode results of stories260K's reference.json.</summary>
public static class Stories260KReference
{
    public sealed record GreedyCase(string Prompt, int[] PromptTokenIds, int[] GeneratedTokenIds, string Completion);

    public sealed record EncodeCase(string Text, int[] Ids);

    private static readonly Lazy<JsonDocument> s_doc = new(() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(RepoPaths.Stories260K, "reference.json"))));

    public static IEnumerable<GreedyCase> Greedy() =>
        s_doc.Value.RootElement.GetProperty("greedy").EnumerateArray().Select(c => new GreedyCase(
            c.GetProperty("prompt").GetString()!,
            Ints(c.GetProperty("prompt_token_ids")),
            Ints(c.GetProperty("generated_token_ids")),
            c.GetProperty("completion").GetString()!));

    public static IEnumerable<EncodeCase> Encodes() =>
        s_doc.Value.RootElement.GetProperty("tokenizer").EnumerateArray().Select(c => new EncodeCase(
            c.GetProperty("text").GetString()!, Ints(c.GetProperty("ids"))));

    public static TheoryData<int> GreedyIndices() => new(Enumerable.Range(0, Greedy().Count()));

    private static int[] Ints(JsonElement array) => array.EnumerateArray().Select(e => e.GetInt32()).ToArray();
}
