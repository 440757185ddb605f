using System.Text.Json.Nodes;
using Inference.Server.Requests;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Inference.Server.OpenAi;

/// <summary>POST /apply-template (llama.cpp): renders messages with the chat template, without generating.</summary>
public static class ApplyTemplateEndpoint
{
    public static void Map(IEndpointRouteBuilder app) => app.MapPost("/apply-template", HandleAsync);

    private static async Task HandleAsync(HttpContext ctx)
    {
        var model = ctx.RequestServices.GetRequiredService<ModelSlot>().Require();
        using var body = await RequestBody.ReadAsync(ctx);
        var r = new RequestReader(body.RootElement);
        model.CheckModelName(r.String("model"));
        string prompt = ChatPrompt.Render(r, model, r.Bool("add_generation_prompt") ?? true);
        await OpenAiJson.WriteAsync(ctx, new JsonObject { ["prompt"] = prompt });
    }
}
