using System.Text.Json;

namespace Inference.Tests;

/// <summary>One greedy continuation from ../shared/models/stories260K/reference.json.</summary>
public sealed record ReferenceCase(string Prompt, int[] PromptTokenIds, int MaxTokens, int[] GeneratedTokenIds, string Completion)
{
    public override string ToString() => Prompt;

    public static IReadOnlyList<ReferenceCase> Load(string modelDir)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(modelDir, "reference.json")));
        var list = new List<ReferenceCase>();
        foreach (var g in doc.RootElement.GetProperty("greedy").EnumerateArray())
            list.Add(new ReferenceCase(
                g.GetProperty("prompt").GetString()!,
                g.GetProperty("prompt_token_ids").EnumerateArray().Select(x => x.GetInt32()).ToArray(),
                g.GetProperty("max_tokens").GetInt32(),
                g.GetProperty("generated_token_ids").EnumerateArray().Select(x => x.GetInt32()).ToArray(),
                g.GetProperty("completion").GetString()!));
        return list;
    }

    public static TheoryData<string, int> Indices()
    {
        var data = new TheoryData<string, int>();
        foreach (var dir in new[] { "stories260K", "stories260K-sharded" })
            for (int i = 0; i < Load(RepoPaths.Model(dir)).Count; i++) data.Add(dir, i);
        return data;
    }
}
