using System.Text.Json;
using Inference.Tests;

namespace Inference.Server.Tests.Grpc;

/// <summary>The greedy "Once upon a time" continuation in stories260K/reference.json (from llama2.c).</summary>
public static class Reference
{
    private static readonly Lazy<JsonElement> s_first = new(() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(RepoPaths.Stories260K, "reference.json"))).RootElement.GetProperty("greedy")[0]);

    public static string Prompt => s_first.Value.GetProperty("prompt").GetString()!;
    public static int MaxTokens => s_first.Value.GetProperty("max_tokens").GetInt32();
    public static string Completion => s_first.Value.GetProperty("completion").GetString()!;
    public static int[] PromptTokenIds => [.. s_first.Value.GetProperty("prompt_token_ids").EnumerateArray().Select(e => e.GetInt32())];
    public static int[] GeneratedTokenIds => [.. s_first.Value.GetProperty("generated_token_ids").EnumerateArray().Select(e => e.GetInt32())];
}
