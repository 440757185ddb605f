using System.Text;
using System.Text.Json.Nodes;
using Inference.Engine;
using Inference.Tests;

namespace Inference.Server.Tests;

/// <summary>A server whose waiting queue is always full (--max-waiting 0).</summary>
public sealed class OverloadedFixture : ServerFixture
{
    protected override EngineOptions EngineOptions => base.EngineOptions with { MaxWaiting = 0 };
}

/// <summary>stories260K copied without its chat template.</summary>
public sealed class NoTemplateFixture : ServerFixture
{
    private readonly TempDir _dir = new();

    public NoTemplateFixture()
    {
        foreach (var f in Directory.GetFiles(RepoPaths.Stories260K))
            File.Copy(f, _dir.File(Path.GetFileName(f)));
        var config = JsonNode.Parse(File.ReadAllText(_dir.File("tokenizer_config.json")))!.AsObject();
        config.Remove("chat_template");
        File.WriteAllText(_dir.File("tokenizer_config.json"), config.ToJsonString());
    }

    protected override string ModelDir => _dir.Path;
}

public class OverloadTests(OverloadedFixture server) : IClassFixture<OverloadedFixture>
{
    [Fact]
    public async Task Full_waiting_queue_is_429_with_retry_after()
    {
        var (status, body, response) = await server.PostAsync("/v1/completions", """{"prompt":"Once","max_tokens":2}""");
        Assert.Equal(429, status);
        Assert.Equal("1", response.Headers.GetValues("Retry-After").Single());
        ErrorTests.AssertError(body, null, "--max-waiting");
        Assert.Equal(200, (int)(await server.Http.GetAsync(server.BaseUrl + "/health")).StatusCode);
    }
}

public class NoTemplateTests(NoTemplateFixture server) : IClassFixture<NoTemplateFixture>
{
    [Fact]
    public async Task Chat_without_a_chat_template_is_400_and_completions_still_work()
    {
        var (status, body, _) = await server.PostAsync("/v1/chat/completions", """{"messages":[{"role":"user","content":"Hi"}]}""");
        Assert.Equal(400, status);
        ErrorTests.AssertError(body, null, "no chat template");
        Assert.Equal(200, (await server.PostAsync("/v1/completions", """{"prompt":"Once","max_tokens":2}""")).Status);
    }
}

/// <summary>An engine slowed to ~200 steps/s by its observer, so a stream is surely still running when the client leaves.</summary>
public sealed class SlowFixture : ServerFixture
{
    protected override void Configure(LlmEngine engine) => engine.Observer = new SlowObserver();

    private sealed class SlowObserver : IEngineObserver
    {
        public void OnStep(int scheduledTokens, int promptTokens, int generationTokens, int preemptions, in Scheduling.SchedulerStats stats) => Thread.Sleep(5);
        public void OnInterTokenLatency(double seconds) { }
        public void OnRequestFinished(RequestMetrics metrics) { }
    }
}

/// <summary>Its own engine, so the block count it checks is not disturbed by other tests.</summary>
public class DisconnectTests(SlowFixture server) : IClassFixture<SlowFixture>
{
    [Fact]
    public async Task Client_disconnect_mid_stream_aborts_the_request_and_frees_its_blocks()
    {
        var idle = server.Engine.GetStats().Scheduler;
        using (var content = new StringContent("""{"prompt":"Once upon a time","max_tokens":400,"temperature":0,"ignore_eos":true,"stream":true}""", Encoding.UTF8, "application/json"))
        using (var request = new HttpRequestMessage(HttpMethod.Post, server.BaseUrl + "/v1/completions") { Content = content })
        {
            var response = await server.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            Assert.StartsWith("data: {", await reader.ReadLineAsync());
            Assert.Equal(1, server.Engine.GetStats().Scheduler.NumRunning);
            response.Dispose(); // closes the connection mid-stream
        }

        var deadline = DateTime.UtcNow.AddSeconds(20);
        var stats = server.Engine.GetStats().Scheduler;
        while ((stats.NumRunning != 0 || stats.NumFreeBlocks != stats.NumBlocks - 1) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
            stats = server.Engine.GetStats().Scheduler;
        }
        Assert.Equal(0, stats.NumRunning);
        Assert.Equal(0, stats.NumWaiting);
        // Freed blocks (prefix-cached ones included) are all back in the free queue.
        Assert.Equal(stats.NumBlocks - 1, stats.NumFreeBlocks);
        Assert.Equal(idle.NumBlocks - 1, idle.NumFreeBlocks);
        // It stopped early: far fewer than 400 tokens were generated.
        Assert.True(server.Engine.GetStats().GenerationTokensTotal < 400, $"generated {server.Engine.GetStats().GenerationTokensTotal} tokens");
    }
}
