using Inference.Server.Generation;
using Inference.Server.Requests;
using Inference.Server.Sse;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Inference.Server.OpenAi;

/// <summary>POST /v1/chat/completions.</summary>
public static class ChatCompletionsEndpoint
{
    public static void Map(IEndpointRouteBuilder app) => app.MapPost("/v1/chat/completions", HandleAsync);

    private static async Task HandleAsync(HttpContext ctx)
    {
        var model = ctx.RequestServices.GetRequiredService<ModelSlot>().Require();
        using var body = await RequestBody.ReadAsync(ctx);
        var req = ChatRequest.Parse(body.RootElement, model);
        model.ThrowIfOverloaded();
        if (req.Streaming.Stream)
        {
            await SseWriter.RunAsync(ctx, sse => ChatStream.RunAsync(sse, model, req, ctx.RequestAborted));
            return;
        }
        await OpenAiJson.WriteAsync(ctx, await RunAsync(model, req, ctx.RequestAborted));
    }

    /// <summary>Runs a parsed request to completion and builds its body (shared with run-batch).</summary>
    public static async Task<System.Text.Json.Nodes.JsonObject> RunAsync(ServedModel model, ChatRequest req, CancellationToken ct)
    {
        var h = ChatResponses.Header(model.Name);
        var result = await GenerationRunner.CollectAsync(model.Engine, h.Id, [req.Prompt.TokenIds], req.Sampling, ct);
        return ChatResponses.Build(h, req, result, model.Tokenizer);
    }
}
