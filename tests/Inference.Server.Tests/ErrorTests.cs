using System.Text;
using System.Text.Json.Nodes;

namespace Inference.Server.Tests;

/// <summary>Every kind of bad request gets its status and an OpenAI error body, and the server keeps serving.</summary>
[Collection(ServerCollection.Name)]
public class ErrorTests(ServerFixture server)
{
    private const string Completions = "/v1/completions";
    private const string Chat = "/v1/chat/completions";

    public static TheoryData<string, string, int, string?, string> BadRequests() => new()
    {
        { Completions, "{\"prompt\": \"Once\"", 400, null, "not valid JSON" },
        { Completions, "[1, 2]", 400, null, "must be a JSON object" },
        { Completions, """{"prompt":"Once","temperature":"hot"}""", 400, "temperature", "must be a number" },
        { Completions, """{"prompt":"Once","temperature":5}""", 400, "temperature", "[0, 2]" },
        { Completions, """{"prompt":"Once","top_p":0}""", 400, null, "top_p" },
        { Completions, """{"prompt":"Once","n":0}""", 400, "n", "'n'" },
        { Completions, """{"prompt":"Once","max_tokens":0}""", 400, "max_tokens", "at least 1" },
        { Completions, """{"prompt":"Once","max_tokens":1.5}""", 400, "max_tokens", "an integer" },
        { Completions, """{"prompt":"Once","max_tokens":600}""", 400, "max_tokens", "maximum context length is 512" },
        { Completions, """{"max_tokens":5}""", 400, "prompt", "'prompt' is required" },
        { Completions, """{"prompt":[]}""", 400, "prompt", "empty" },
        { Completions, """{"prompt":[1, 99999]}""", 400, "prompt", "99999" },
        { Completions, """{"prompt":["Once", [1, 2]]}""", 400, "prompt", "not a mix" },
        { Completions, """{"prompt":"Once","logit_bias":{"abc":1}}""", 400, "logit_bias", "abc" },
        { Completions, """{"prompt":"Once","logit_bias":{"5":1000}}""", 400, "logit_bias", "[-100, 100]" },
        { Completions, """{"prompt":"Once","stop":5}""", 400, "stop", "a string or an array" },
        { Completions, """{"prompt":"Once","stream_options":{"include_usage":true}}""", 400, "stream_options", "stream" },
        { Completions, """{"prompt":"Once","echo":true,"logprobs":1}""", 400, "echo", "echo" },
        { Completions, """{"prompt":"Once","logprobs":50}""", 400, "logprobs", "[0, 20]" },
        { Completions, """{"prompt":"Once","seed":"x"}""", 400, "seed", "an integer" },
        { Completions, "{\"prompt\":[" + string.Join(",", Enumerable.Repeat("\"a\"", 20)) + "],\"n\":100}", 400, "n", "2000 choices" },
        { Chat, """{"max_tokens":5}""", 400, "messages", "'messages' is required" },
        { Chat, """{"messages":[]}""", 400, "messages", "at least one" },
        { Chat, """{"messages":"hi"}""", 400, "messages", "an array" },
        { Chat, """{"messages":[{"role":"wizard","content":"x"}]}""", 400, "messages[0].role", "wizard" },
        { Chat, """{"messages":[{"content":"x"}]}""", 400, "messages[0].role", "required" },
        { Chat, """{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"file:///etc/passwd"}}]}]}""", 400, "messages[0].content[0].type", "image_url" },
        { Chat, """{"messages":[{"role":"user","content":7}]}""", 400, "messages[0].content", "a string or an array" },
        { Chat, """{"messages":[{"role":"user","content":"x"}],"top_logprobs":2}""", 400, "top_logprobs", "logprobs" },
        { Chat, """{"messages":[{"role":"user","content":"x"}],"max_completion_tokens":100000}""", 400, "max_completion_tokens", "maximum context length" },
        { "/tokenize", """{}""", 400, "prompt", "'prompt' or 'messages'" },
        { "/detokenize", """{"tokens":[1,-3]}""", 400, "tokens", "-3" },
        { Completions, """{"model":"gpt-4","prompt":"Once"}""", 404, "model", "gpt-4" },
        { Chat, """{"model":"other","messages":[{"role":"user","content":"x"}]}""", 404, "model", "other" },
        { "/v1/embeddings", """{"input":"x"}""", 404, null, "/v1/embeddings" },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task Bad_request_gets_status_and_error_body_then_the_server_still_serves(string path, string json, int status, string? param, string fragment)
    {
        var (got, body, _) = await server.PostAsync(path, json);
        Assert.Equal(status, got);
        AssertError(body, param, fragment);
        await AssertStillServes();
    }

    [Fact]
    public async Task Prompt_longer_than_the_context_is_400()
    {
        var ids = new JsonArray(Enumerable.Repeat(300, 600).Select(i => (JsonNode)i).ToArray());
        var (status, body, _) = await server.PostAsync("/v1/completions", new JsonObject { ["prompt"] = ids });
        Assert.Equal(400, status);
        AssertError(body, "prompt", "600 tokens");
        await AssertStillServes();
    }

    [Fact]
    public async Task Body_over_the_limit_is_413()
    {
        string huge = "{\"prompt\":\"" + new string('a', 5 * 1024 * 1024) + "\"}";
        using var request = new HttpRequestMessage(HttpMethod.Post, server.BaseUrl + "/v1/completions")
        {
            Content = new StringContent(huge, Encoding.UTF8, "application/json"),
        };
        // With 100-continue the server can refuse before the client uploads 5 MB into a closed connection.
        request.Headers.ExpectContinue = true;
        using var response = await server.Http.SendAsync(request);
        Assert.Equal(413, (int)response.StatusCode);
        AssertError(JsonNode.Parse(await response.Content.ReadAsStringAsync()), null, "limit");
        await AssertStillServes();
    }

    [Fact]
    public async Task Unknown_get_route_is_404_with_an_error_body()
    {
        var response = await server.Http.GetAsync(server.BaseUrl + "/v2/nothing");
        Assert.Equal(404, (int)response.StatusCode);
        AssertError(JsonNode.Parse(await response.Content.ReadAsStringAsync()), null, "/v2/nothing");
    }

    internal static void AssertError(JsonNode? body, string? param, string fragment)
    {
        Assert.NotNull(body);
        var error = body!["error"]!.AsObject();
        Assert.Equal(["message", "type", "param", "code"], error.Select(p => p.Key));
        Assert.Contains(fragment, (string)error["message"]!);
        Assert.False(string.IsNullOrEmpty((string?)error["type"]));
        Assert.Equal(param, (string?)error["param"]);
    }

    private async Task AssertStillServes()
    {
        var (status, body, _) = await server.PostAsync("/v1/completions", """{"prompt":"Once upon a time","max_tokens":3,"temperature":0}""");
        Assert.Equal(200, status);
        Assert.Equal(3, (int)body!["usage"]!["completion_tokens"]!);
    }
}
