using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Grpc.Core;
using Inference.Grpc.V1;

namespace Inference.Server.Tests.Grpc;

[Collection(GrpcServerCollection.Name)]
public sealed class GrpcGenerateTests(GrpcServerFixture server)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private const string AbortSeries = "inference_request_success_total{model_name=\"stories260K\",finished_reason=\"abort\"}";

    private static GenerateRequest Greedy(string prompt, int maxTokens) => new()
    {
        Text = prompt,
        Sampling = new SamplingParams { Temperature = 0, MaxTokens = maxTokens, IgnoreEos = true },
    };

    [Fact]
    public async Task StreamingGenerate_Greedy_EqualsReferenceAndHttpCompletion()
    {
        var text = new StringBuilder();
        var ids = new List<int>();
        GenerateResponse? last = null;
        int messages = 0;
        using var call = server.Client.Generate(Greedy(Reference.Prompt, Reference.MaxTokens), deadline: DateTime.UtcNow + Timeout);
        await foreach (var r in call.ResponseStream.ReadAllAsync())
        {
            text.Append(r.Text);
            ids.AddRange(r.TokenIds);
            last = r;
            messages++;
        }

        Assert.Equal(Reference.Completion, text.ToString());
        Assert.Equal(Reference.GeneratedTokenIds, ids);
        Assert.True(messages > 1, "the completion should arrive in several messages, not one");
        Assert.Equal("length", last!.FinishReason);
        Assert.Equal(Reference.PromptTokenIds.Length, last.Usage.PromptTokens);
        Assert.Equal(Reference.MaxTokens, last.Usage.CompletionTokens);
        Assert.Equal(Reference.PromptTokenIds.Length + Reference.MaxTokens, last.Usage.TotalTokens);

        using var http = await server.Http.PostAsJsonAsync("/v1/completions",
            new { prompt = Reference.Prompt, max_tokens = Reference.MaxTokens, temperature = 0, ignore_eos = true });
        http.EnsureSuccessStatusCode();
        using var body = JsonDocument.Parse(await http.Content.ReadAsStringAsync());
        Assert.Equal(text.ToString(), body.RootElement.GetProperty("choices")[0].GetProperty("text").GetString());
    }

    [Fact]
    public async Task Complete_EqualsStreamedTextAndAcceptsTokenIds()
    {
        var byText = await server.Client.CompleteAsync(Greedy(Reference.Prompt, 20), deadline: DateTime.UtcNow + Timeout);
        var byIds = new GenerateRequest { TokenIds = new TokenIds(), Sampling = new SamplingParams { Temperature = 0, MaxTokens = 20, IgnoreEos = true } };
        byIds.TokenIds.Ids.Add(Reference.PromptTokenIds);
        var fromIds = await server.Client.CompleteAsync(byIds, deadline: DateTime.UtcNow + Timeout);

        Assert.Equal(Reference.GeneratedTokenIds.Take(20), byText.TokenIds);
        Assert.Equal(byText.Text, fromIds.Text);
        Assert.Equal("stories260K", byText.Model);
        Assert.Equal("length", byText.FinishReason);
        Assert.Equal(20, byText.Usage.CompletionTokens);
        Assert.StartsWith(byText.Text, Reference.Completion, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StopString_EndsWithFinishReasonStop()
    {
        var request = Greedy(Reference.Prompt, Reference.MaxTokens);
        request.Sampling.Stop.Add("Lily");
        var r = await server.Client.CompleteAsync(request, deadline: DateTime.UtcNow + Timeout);
        Assert.Equal("stop", r.FinishReason);
        Assert.Equal(", there was a little girl named ", r.Text);
    }

    [Fact]
    public async Task TokenizeAndListModels()
    {
        var t = await server.Client.TokenizeAsync(new TokenizeRequest { Text = Reference.Prompt }, deadline: DateTime.UtcNow + Timeout);
        Assert.Equal(Reference.PromptTokenIds, t.TokenIds);
        Assert.Equal(Reference.PromptTokenIds.Length, t.Count);
        var noBos = await server.Client.TokenizeAsync(new TokenizeRequest { Text = Reference.Prompt, AddSpecialTokens = false }, deadline: DateTime.UtcNow + Timeout);
        Assert.Equal(Reference.PromptTokenIds.Skip(1), noBos.TokenIds);

        var models = await server.Client.ListModelsAsync(new ListModelsRequest(), deadline: DateTime.UtcNow + Timeout);
        var m = Assert.Single(models.Models);
        Assert.Equal("stories260K", m.Id);
        Assert.Equal(512, m.MaxModelLen);
    }

    [Fact]
    public async Task Cancellation_AbortsTheRequestAndFreesItsBlocks()
    {
        await server.WaitIdleAsync(Timeout);
        double abortsBefore = await server.MetricAsync(AbortSeries);
        using var cts = new CancellationTokenSource(Timeout);
        // The longest request the context allows, so it is still running when the cancel arrives.
        using var call = server.Client.Generate(Greedy(Reference.Prompt, 500), cancellationToken: cts.Token);
        Assert.True(await call.ResponseStream.MoveNext(cts.Token));
        await cts.CancelAsync();
        var e = await Assert.ThrowsAsync<RpcException>(async () => { while (await call.ResponseStream.MoveNext(CancellationToken.None)) { } });
        Assert.Equal(StatusCode.Cancelled, e.StatusCode);

        await server.WaitIdleAsync(TimeSpan.FromSeconds(10));
        var stats = server.Engine.GetStats().Scheduler;
        Assert.Equal(0, stats.NumRunning);
        Assert.Equal(server.FreeBlocksWhenIdle, stats.NumFreeBlocks);
        Assert.Equal(abortsBefore + 1, await server.MetricAsync(AbortSeries));
    }
}
