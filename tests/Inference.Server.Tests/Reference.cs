using System.Text.Json.Nodes;
using Inference.Tests;

namespace Inference.Server.Tests;

/// <summary>The greedy continuations in stories260K/reference.json (llama2.c run.c).</summary>
public static class Reference
{
    public static JsonNode Greedy(string prompt) =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(RepoPaths.Stories260K, "reference.json")))!["greedy"]!.AsArray()
            .Single(c => (string)c!["prompt"]! == prompt)!;
}
