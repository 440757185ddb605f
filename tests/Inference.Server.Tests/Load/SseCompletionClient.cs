using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Inference.Server.Tests.Load;

/// <summary>One streaming /v1/completions call read as raw Server-Sent Events.</summary>
public static class SseCompletionClient
{
    /// <summary>The concatenated text and whether "data: [DONE]" ended the stream.</summary>
    public sealed record Result(string Text, bool Done, string? FinishReason, int Chunks);

    public static async Task<Result> RunAsync(HttpClient http, string prompt, int maxTokens, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/completions")
        {
            Content = JsonContent.Create(new { prompt, max_tokens = maxTokens, temperature = 0, ignore_eos = true, stream = true }),
        };
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        if (!response.IsSuccessStatusCode)
            throw new HttpRequestException($"HTTP {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(ct)}");
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(ct), Encoding.UTF8);
        var text = new StringBuilder();
        string? finish = null;
        int chunks = 0;
        while (await reader.ReadLineAsync(ct) is { } line)
        {
            if (!line.StartsWith("data: ", StringComparison.Ordinal)) continue;
            var data = line.AsMemory(6);
            if (data.Span.SequenceEqual("[DONE]")) return new Result(text.ToString(), true, finish, chunks);
            using var chunk = JsonDocument.Parse(data);
            if (chunk.RootElement.TryGetProperty("error", out var error)) throw new HttpRequestException($"error event: {error}");
            var choice = chunk.RootElement.GetProperty("choices")[0];
            text.Append(choice.GetProperty("text").GetString());
            if (choice.TryGetProperty("finish_reason", out var f) && f.ValueKind == JsonValueKind.String) finish = f.GetString();
            chunks++;
        }
        return new Result(text.ToString(), false, finish, chunks);
    }
}
