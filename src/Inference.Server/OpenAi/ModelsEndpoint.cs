using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Inference.Server.OpenAi;

/// <summary>GET /v1/models and GET /v1/models/{id}.</summary>
public static class ModelsEndpoint
{
    private static readonly long s_created = OpenAiJson.UnixNow();

    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/models", ctx =>
        {
            var model = ctx.RequestServices.GetRequiredService<ModelSlot>().Require();
            return OpenAiJson.WriteAsync(ctx, new JsonObject { ["object"] = "list", ["data"] = new JsonArray(Card(model)) });
        });
        app.MapGet("/v1/models/{id}", (HttpContext ctx, string id) =>
        {
            var model = ctx.RequestServices.GetRequiredService<ModelSlot>().Require();
            model.CheckModelName(id);
            return OpenAiJson.WriteAsync(ctx, Card(model));
        });
    }

    private static JsonObject Card(ServedModel model) => new()
    {
        ["id"] = model.Name,
        ["object"] = "model",
        ["created"] = s_created,
        ["owned_by"] = "inference",
        ["max_model_len"] = model.MaxModelLen,
    };
}
