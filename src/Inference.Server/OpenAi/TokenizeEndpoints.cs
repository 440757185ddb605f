using System.Text.Json;
using System.Text.Json.Nodes;
using Inference.Server.Errors;
using Inference.Server.Requests;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Inference.Server.OpenAi;

/// <summary>POST /tokenize and POST /detokenize (vLLM's shapes).</summary>
public static class TokenizeEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapPost("/tokenize", TokenizeAsync);
        app.MapPost("/detokenize", DetokenizeAsync);
    }

    private static async Task TokenizeAsync(HttpContext ctx)
    {
        var model = ctx.RequestServices.GetRequiredService<ModelSlot>().Require();
        using var body = await RequestBody.ReadAsync(ctx);
        var r = new RequestReader(body.RootElement);
        model.CheckModelName(r.String("model"));
        int[] ids;
        if (r.Get("messages") is not null)
        {
            string text = ChatPrompt.Render(r, model, r.Bool("add_generation_prompt") ?? true);
            ids = model.Tokenizer.Encode(text, addSpecialTokens: r.Bool("add_special_tokens") ?? false);
        }
        else
        {
            string prompt = r.String("prompt") ?? throw OpenAiException.BadRequest("'prompt' or 'messages' is required", "prompt");
            ids = model.Tokenizer.Encode(prompt, addSpecialTokens: r.Bool("add_special_tokens") ?? true);
        }
        var tokens = new JsonArray();
        foreach (int id in ids) tokens.Add(id);
        await OpenAiJson.WriteAsync(ctx, new JsonObject { ["tokens"] = tokens, ["count"] = ids.Length, ["max_model_len"] = model.MaxModelLen });
    }

    private static async Task DetokenizeAsync(HttpContext ctx)
    {
        var model = ctx.RequestServices.GetRequiredService<ModelSlot>().Require();
        using var body = await RequestBody.ReadAsync(ctx);
        var r = new RequestReader(body.RootElement);
        model.CheckModelName(r.String("model"));
        if (r.Get("tokens") is not { } v) throw OpenAiException.BadRequest("'tokens' is required", "tokens");
        if (v.ValueKind != JsonValueKind.Array) throw RequestReader.WrongType("tokens", "an array of token ids", v);
        var ids = v.EnumerateArray().Select(t => SamplingReader.TokenId(t, "tokens", model)).ToArray();
        await OpenAiJson.WriteAsync(ctx, new JsonObject { ["prompt"] = model.Tokenizer.Decode(ids, skipSpecialTokens: false) });
    }
}
