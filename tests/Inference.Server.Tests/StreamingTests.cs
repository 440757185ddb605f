using System.Text;
using System.Text.Json.Nodes;

namespace Inference.Server.Tests;

/// <summary>The raw Server-Sent Events framing of both streaming endpoints.</summary>
[Collection(ServerCollection.Name)]
public class StreamingTests(ServerFixture server)
{
    [Fact]
    public async Task Chat_stream_framing_role_first_usage_chunk_and_done()
    {
        var (raw, data, response) = await SseClient.PostAsync(server.Http, server.BaseUrl + "/v1/chat/completions",
            """{"messages":[{"role":"user","content":"Hi"}],"max_tokens":12,"temperature":0,"stream":true,"stream_options":{"include_usage":true}}""");
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        Assert.EndsWith("data: [DONE]\n\n", raw);
        Assert.Equal("[DONE]", data[^1]);
        Assert.Equal(1, data.Count(d => d == "[DONE]"));
        var chunks = SseClient.Chunks(data);
        Assert.All(chunks, c =>
        {
            Assert.Equal("chat.completion.chunk", (string)c["object"]!);
            Assert.StartsWith("chatcmpl-", (string)c["id"]!);
            Assert.True(c.AsObject().ContainsKey("usage"));
        });
        Assert.Single(chunks.Select(c => (string)c["id"]!).Distinct());

        var first = chunks[0]["choices"]![0]!["delta"]!;
        Assert.Equal("assistant", (string)first["role"]!);
        Assert.Equal("", (string)first["content"]!);
        Assert.All(chunks.Skip(1), c => Assert.Null(c["choices"]!.AsArray().FirstOrDefault()?["delta"]?["role"]));

        var last = chunks[^1];
        Assert.Empty(last["choices"]!.AsArray());
        Assert.Equal(12, (int)last["usage"]!["completion_tokens"]!);
        Assert.All(chunks.SkipLast(1), c => Assert.Null(c["usage"]));
        var finishes = chunks.SkipLast(1).Select(c => (string?)c["choices"]![0]!["finish_reason"]).Where(f => f is not null).ToList();
        Assert.Equal(["length"], finishes);
        Assert.Equal("length", (string)chunks[^2]["choices"]![0]!["finish_reason"]!);

        var whole = await server.PostAsync("/v1/chat/completions", """{"messages":[{"role":"user","content":"Hi"}],"max_tokens":12,"temperature":0}""");
        string streamed = string.Concat(chunks.SkipLast(1).Select(c => (string?)c["choices"]![0]!["delta"]!["content"] ?? ""));
        Assert.Equal((string)whole.Body!["choices"]![0]!["message"]!["content"]!, streamed);
        Assert.Equal((int)whole.Body["usage"]!["prompt_tokens"]!, (int)last["usage"]!["prompt_tokens"]!);
    }

    [Fact]
    public async Task Without_include_usage_chunks_have_no_usage_field()
    {
        var (_, data, _) = await SseClient.PostAsync(server.Http, server.BaseUrl + "/v1/chat/completions",
            """{"messages":[{"role":"user","content":"Hi"}],"max_tokens":4,"temperature":0,"stream":true}""");
        var chunks = SseClient.Chunks(data);
        Assert.All(chunks, c => Assert.False(c.AsObject().ContainsKey("usage")));
        Assert.All(chunks, c => Assert.Single(c["choices"]!.AsArray()));
    }

    [Fact]
    public async Task Completion_stream_equals_non_streamed_text_per_choice()
    {
        const string request = """{"prompt":["Once upon a time","Lily and Ben"],"max_tokens":20,"temperature":0,"n":2,"stream":true,"stream_options":{"include_usage":true}}""";
        var (_, data, _) = await SseClient.PostAsync(server.Http, server.BaseUrl + "/v1/completions", request);
        Assert.Equal("[DONE]", data[^1]);
        var chunks = SseClient.Chunks(data);
        var texts = new StringBuilder[4];
        for (int i = 0; i < 4; i++) texts[i] = new StringBuilder();
        foreach (var c in chunks.SkipLast(1))
        {
            Assert.Equal("text_completion", (string)c["object"]!);
            var choice = c["choices"]![0]!;
            texts[(int)choice["index"]!].Append((string)choice["text"]!);
        }
        var whole = await server.PostAsync("/v1/completions", request.Replace(""","stream":true,"stream_options":{"include_usage":true}""", ""));
        var choices = whole.Body!["choices"]!.AsArray();
        for (int i = 0; i < 4; i++)
            Assert.Equal((string)choices[i]!["text"]!, texts[i].ToString());
        Assert.Equal(80, (int)chunks[^1]["usage"]!["completion_tokens"]!);
        Assert.Equal(whole.Body["usage"]!.ToJsonString(), chunks[^1]["usage"]!.ToJsonString());
    }

    [Fact]
    public async Task Stream_reaches_the_client_token_by_token()
    {
        using var content = new StringContent("""{"prompt":"Once upon a time","max_tokens":50,"temperature":0,"ignore_eos":true,"stream":true}""", Encoding.UTF8, "application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, server.BaseUrl + "/v1/completions") { Content = content };
        using var response = await server.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        // The first event arrives on its own, long before the 50th token would be generated if it were buffered.
        string? line = await reader.ReadLineAsync();
        Assert.StartsWith("data: {", line);
        var first = JsonNode.Parse(line!["data: ".Length..])!;
        Assert.Equal(0, (int)first["choices"]![0]!["index"]!);
    }
}
