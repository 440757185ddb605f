using System.Text;
using System.Text.Json.Nodes;

namespace Inference.Server.Tests;

/// <summary>Posts a streaming request and returns the raw event-stream text and its parsed data lines.</summary>
public static class SseClient
{
    public static async Task<(string Raw, List<string> Data, HttpResponseMessage Response)> PostAsync(HttpClient http, string url, string json)
    {
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        var response = await http.PostAsync(url, content);
        string raw = await response.Content.ReadAsStringAsync();
        var data = new List<string>();
        foreach (var evt in raw.Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            Assert.StartsWith("data: ", evt);
            data.Add(evt["data: ".Length..]);
        }
        return (raw, data, response);
    }

    public static List<JsonNode> Chunks(List<string> data) =>
        data.Where(d => d != "[DONE]").Select(d => JsonNode.Parse(d)!).ToList();
}
