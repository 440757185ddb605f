using System.Net.Http.Headers;
using System.Text.Json.Nodes;

namespace Inference.Server.Tests;

/// <summary>Auth, health, version and the non-generating endpoints.</summary>
[Collection(ServerCollection.Name)]
public class HostTests(ServerFixture server)
{
    [Fact]
    public async Task Api_key_is_required_everywhere_but_health()
    {
        string url = await server.StartAsync(new ServerOptions { Port = 0, ApiKey = "sesame" }, ModelSlot.Ready(server.Engine));
        async Task<(int, JsonNode?)> Get(string path, string? key)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url + path);
            if (key is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
            var response = await server.Http.SendAsync(request);
            string text = await response.Content.ReadAsStringAsync();
            return ((int)response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text));
        }

        var (status, body) = await Get("/v1/models", null);
        Assert.Equal(401, status);
        ErrorTests.AssertError(body, null, "missing API key");
        (status, body) = await Get("/v1/models", "wrong");
        Assert.Equal(401, status);
        ErrorTests.AssertError(body, null, "incorrect API key");
        (status, _) = await Get("/nope", null);
        Assert.Equal(401, status); // unknown routes must not reveal themselves either
        (status, body) = await Get("/v1/models", "sesame");
        Assert.Equal(200, status);
        Assert.Equal("stories260K", (string)body!["data"]![0]!["id"]!);
        (status, _) = await Get("/health", null);
        Assert.Equal(200, status);
    }

    [Fact]
    public async Task Health_is_503_while_loading_and_other_routes_too()
    {
        string url = await server.StartAsync(new ServerOptions { Port = 0 }, new ModelSlot());
        Assert.Equal(503, (int)(await server.Http.GetAsync(url + "/health")).StatusCode);
        var (status, body, _) = await server.PostAsync("/v1/completions", """{"prompt":"x"}""", url);
        Assert.Equal(503, status);
        ErrorTests.AssertError(body, null, "loading");
        Assert.Equal(200, (int)(await server.Http.GetAsync(server.BaseUrl + "/health")).StatusCode);
    }

    [Fact]
    public async Task Served_model_name_replaces_the_folder_name()
    {
        string url = await server.StartAsync(new ServerOptions { Port = 0, ServedModelName = "tiny-stories" }, ModelSlot.Ready(server.Engine, "tiny-stories"));
        var models = JsonNode.Parse(await server.Http.GetStringAsync(url + "/v1/models"))!;
        Assert.Equal("list", (string)models["object"]!);
        Assert.Equal("tiny-stories", (string)models["data"]![0]!["id"]!);
        Assert.Equal("model", (string)models["data"]![0]!["object"]!);
        Assert.Equal(404, (await server.PostAsync("/v1/completions", """{"model":"stories260K","prompt":"x","max_tokens":1}""", url)).Status);
        Assert.Equal(200, (await server.PostAsync("/v1/completions", """{"model":"tiny-stories","prompt":"x","max_tokens":1}""", url)).Status);
    }

    [Fact]
    public async Task Version_tokenize_detokenize_and_apply_template()
    {
        var version = JsonNode.Parse(await server.Http.GetStringAsync(server.BaseUrl + "/version"))!;
        Assert.False(string.IsNullOrEmpty((string?)version["version"]));

        var reference = Reference.Greedy("Once upon a time");
        var tok = (await server.PostAsync("/tokenize", """{"prompt":"Once upon a time"}""")).Body!;
        Assert.Equal(reference["prompt_token_ids"]!.ToJsonString(), tok["tokens"]!.ToJsonString());
        Assert.Equal(5, (int)tok["count"]!);
        Assert.Equal(512, (int)tok["max_model_len"]!);

        var detok = (await server.PostAsync("/detokenize", new JsonObject { ["tokens"] = reference["generated_token_ids"]!.DeepClone() })).Body!;
        Assert.Equal((string)reference["completion"]!, (string)detok["prompt"]!);

        var applied = (await server.PostAsync("/apply-template",
            """{"messages":[{"role":"system","content":" Be kind. "},{"role":"user","content":"Hi"}]}""")).Body!;
        Assert.Equal("<s>Be kind.\nUser: Hi\nAssistant:", (string)applied["prompt"]!);
        var noPrompt = (await server.PostAsync("/apply-template", """{"messages":[{"role":"user","content":"Hi"}],"add_generation_prompt":false}""")).Body!;
        Assert.Equal("<s>User: Hi\n", (string)noPrompt["prompt"]!);
    }
}
