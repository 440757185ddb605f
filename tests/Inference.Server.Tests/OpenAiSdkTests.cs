using System.ClientModel;
using System.Text;
using System.Text.Json.Nodes;
using OpenAI;
using OpenAI.Chat;

namespace Inference.Server.Tests;

/// <summary>The official OpenAI .NET SDK against the real server, plus raw /v1/completions (the SDK has no legacy client).</summary>
[Collection(ServerCollection.Name)]
public class OpenAiSdkTests(ServerFixture server)
{
    private ChatClient Chat(string model = "stories260K") =>
        new OpenAIClient(new ApiKeyCredential("unused"), new OpenAIClientOptions { Endpoint = new Uri(server.BaseUrl + "/v1") }).GetChatClient(model);

    private static readonly ChatMessage[] s_messages = [new SystemChatMessage("Tell a story."), new UserChatMessage("Once upon a time")];

    [Fact]
    public async Task Chat_completion_through_the_sdk()
    {
        ChatCompletion c = await Chat().CompleteChatAsync(s_messages, new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 24 });
        Assert.Equal(ChatMessageRole.Assistant, c.Role);
        Assert.StartsWith("chatcmpl-", c.Id);
        Assert.Equal("stories260K", c.Model);
        Assert.Equal(ChatFinishReason.Length, c.FinishReason);
        Assert.False(string.IsNullOrEmpty(c.Content[0].Text));
        Assert.Equal(24, c.Usage.OutputTokenCount);
        Assert.Equal(c.Usage.InputTokenCount + 24, c.Usage.TotalTokenCount);
        Assert.True(Math.Abs((DateTimeOffset.UtcNow - c.CreatedAt).TotalMinutes) < 5);

        // The prompt is the rendered template encoded without a second BOS.
        var tokenized = await server.PostAsync("/tokenize", """{"messages":[{"role":"system","content":"Tell a story."},{"role":"user","content":"Once upon a time"}]}""");
        Assert.Equal((int)tokenized.Body!["count"]!, c.Usage.InputTokenCount);
        var ids = tokenized.Body["tokens"]!.AsArray().Select(t => (int)t!).ToArray();
        Assert.Equal(1, ids[0]);
        Assert.NotEqual(1, ids[1]);
    }

    [Fact]
    public async Task Streamed_chat_equals_non_streamed_at_temperature_0()
    {
        var options = new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 40 };
        ChatCompletion whole = await Chat().CompleteChatAsync(s_messages, options);
        var text = new StringBuilder();
        ChatTokenUsage? usage = null;
        ChatFinishReason? finish = null;
        int updates = 0;
        await foreach (var u in Chat().CompleteChatStreamingAsync(s_messages, options))
        {
            updates++;
            foreach (var part in u.ContentUpdate) text.Append(part.Text);
            usage ??= u.Usage;
            finish ??= u.FinishReason;
        }
        Assert.Equal(whole.Content[0].Text, text.ToString());
        Assert.True(updates > 10, $"expected a chunk per token, got {updates} updates");
        Assert.Equal(ChatFinishReason.Length, finish);
        Assert.NotNull(usage); // the SDK asks for stream_options.include_usage
        Assert.Equal(whole.Usage.InputTokenCount, usage.InputTokenCount);
        Assert.Equal(40, usage.OutputTokenCount);
    }

    [Fact]
    public async Task Unknown_model_is_404_through_the_sdk()
    {
        var e = await Assert.ThrowsAsync<ClientResultException>(() => Chat("gpt-4o").CompleteChatAsync(s_messages));
        Assert.Equal(404, e.Status);
        Assert.Contains("gpt-4o", e.Message);
    }

    [Fact]
    public async Task Greedy_completion_equals_the_reference()
    {
        var reference = Reference.Greedy("Once upon a time");
        var (status, body, _) = await server.PostAsync("/v1/completions",
            """{"model":"stories260K","prompt":"Once upon a time","max_tokens":60,"temperature":0,"ignore_eos":true}""");
        Assert.Equal(200, status);
        Assert.Equal("text_completion", (string)body!["object"]!);
        Assert.StartsWith("cmpl-", (string)body["id"]!);
        var choice = body["choices"]![0]!;
        Assert.Equal((string)reference["completion"]!, (string)choice["text"]!);
        Assert.Equal("length", (string)choice["finish_reason"]!);
        Assert.Equal(5, (int)body["usage"]!["prompt_tokens"]!);
        Assert.Equal(60, (int)body["usage"]!["completion_tokens"]!);
        Assert.Equal(65, (int)body["usage"]!["total_tokens"]!);
    }

    [Fact]
    public async Task Token_id_prompts_and_prompt_arrays_give_one_choice_set_per_prompt()
    {
        var reference = Reference.Greedy("Once upon a time");
        var ids = reference["prompt_token_ids"]!.ToJsonString();
        var (status, body, _) = await server.PostAsync("/v1/completions",
            $$"""{"prompt":[{{ids}},{{ids}}],"max_tokens":8,"temperature":0,"n":2}""");
        Assert.Equal(200, status);
        var choices = body!["choices"]!.AsArray();
        Assert.Equal([0, 1, 2, 3], choices.Select(c => (int)c!["index"]!));
        string expected = (await server.PostAsync("/v1/completions", """{"prompt":"Once upon a time","max_tokens":8,"temperature":0}""")).Body!["choices"]![0]!["text"]!.GetValue<string>();
        Assert.All(choices, c => Assert.Equal(expected, (string)c!["text"]!));
        Assert.Equal(10, (int)body["usage"]!["prompt_tokens"]!);
        Assert.Equal(32, (int)body["usage"]!["completion_tokens"]!);

        var flat = await server.PostAsync("/v1/completions", $$"""{"prompt":{{ids}},"max_tokens":8,"temperature":0}""");
        Assert.Equal(expected, (string)flat.Body!["choices"]![0]!["text"]!);
        var strings = await server.PostAsync("/v1/completions", """{"prompt":["Once upon a time","Lily and Ben"],"max_tokens":4,"temperature":0}""");
        Assert.Equal(2, strings.Body!["choices"]!.AsArray().Count);
        Assert.Equal(1, (int)strings.Body["choices"]![1]!["index"]!);
    }

    [Fact]
    public async Task Echo_stop_and_legacy_logprobs()
    {
        var echo = await server.PostAsync("/v1/completions", """{"prompt":"Once upon a time","max_tokens":5,"temperature":0,"echo":true}""");
        Assert.StartsWith("Once upon a time, there", (string)echo.Body!["choices"]![0]!["text"]!);

        var stop = await server.PostAsync("/v1/completions", """{"prompt":"Once upon a time","max_tokens":30,"temperature":0,"stop":["Lily"]}""");
        Assert.Equal(", there was a little girl named ", (string)stop.Body!["choices"]![0]!["text"]!);
        Assert.Equal("stop", (string)stop.Body["choices"]![0]!["finish_reason"]!);

        var lp = await server.PostAsync("/v1/completions", """{"prompt":"Once upon a time","max_tokens":6,"temperature":0,"logprobs":2}""");
        var choice = lp.Body!["choices"]![0]!;
        var logprobs = choice["logprobs"]!;
        var tokens = logprobs["tokens"]!.AsArray().Select(t => (string)t!).ToArray();
        Assert.Equal((string)choice["text"]!, string.Concat(tokens));
        Assert.Equal(6, logprobs["token_logprobs"]!.AsArray().Count);
        var offsets = logprobs["text_offset"]!.AsArray().Select(o => (int)o!).ToArray();
        Assert.Equal(0, offsets[0]);
        for (int i = 1; i < offsets.Length; i++) Assert.Equal(offsets[i - 1] + tokens[i - 1].Length, offsets[i]);
        var top = logprobs["top_logprobs"]![0]!.AsObject();
        Assert.InRange(top.Count, 2, 3);
        Assert.True(top.ContainsKey(tokens[0]));
        Assert.All(logprobs["token_logprobs"]!.AsArray(), v => Assert.True((double)v! <= 0));
    }

    [Fact]
    public async Task Chat_logprobs_and_seeded_sampling()
    {
        var body = new JsonObject
        {
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = new JsonArray(new JsonObject { ["type"] = "text", ["text"] = "Hi" }) }),
            ["max_completion_tokens"] = 5,
            ["logprobs"] = true,
            ["top_logprobs"] = 3,
            ["seed"] = 7,
            ["temperature"] = 1.0,
        };
        var a = await server.PostAsync("/v1/chat/completions", body);
        var b = await server.PostAsync("/v1/chat/completions", body);
        Assert.Equal(200, a.Status);
        Assert.Equal((string)a.Body!["choices"]![0]!["message"]!["content"]!, (string)b.Body!["choices"]![0]!["message"]!["content"]!);
        var content = a.Body["choices"]![0]!["logprobs"]!["content"]!.AsArray();
        Assert.Equal(5, content.Count);
        Assert.All(content, e =>
        {
            Assert.Equal(3, e!["top_logprobs"]!.AsArray().Count);
            Assert.Equal(Encoding.UTF8.GetBytes((string)e["token"]!), e["bytes"]!.AsArray().Select(x => (byte)(int)x!));
        });
        Assert.Equal((string)a.Body["choices"]![0]!["message"]!["content"]!, string.Concat(content.Select(e => (string)e!["token"]!)));
    }

    [Fact]
    public async Task Concurrent_requests_batch_together_and_each_get_their_own_greedy_answer()
    {
        string[] prompts = ["Once upon a time", "Lily and Ben"];
        var tasks = Enumerable.Range(0, 16).Select(i => server.PostAsync("/v1/completions",
            new JsonObject { ["prompt"] = prompts[i % 2], ["max_tokens"] = 30, ["temperature"] = 0, ["ignore_eos"] = true })).ToArray();
        var results = await Task.WhenAll(tasks);
        Assert.All(results, r => Assert.Equal(200, r.Status));
        for (int i = 0; i < results.Length; i++)
        {
            string expected = (string)Reference.Greedy(prompts[i % 2])["completion"]!;
            string text = (string)results[i].Body!["choices"]![0]!["text"]!;
            Assert.StartsWith(text, expected);
            Assert.Equal(30, (int)results[i].Body!["usage"]!["completion_tokens"]!);
        }
        Assert.Equal(16, results.Select(r => (string)r.Body!["id"]!).Distinct().Count());
    }
}
