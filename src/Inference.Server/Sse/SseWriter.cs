using System.Text;
using System.Text.Json.Nodes;
using Inference.Server.Errors;
using Inference.Server.OpenAi;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Inference.Server.Sse;

/// <summary>Server-Sent Events in OpenAI's framing: "data: {json}\n\n" per chunk, flushed at once, "data: [DONE]" last.</summary>
public sealed class SseWriter
{
    private static readonly byte[] s_done = "data: [DONE]\n\n"u8.ToArray();
    private readonly HttpResponse _response;
    private readonly CancellationToken _ct;

    private SseWriter(HttpResponse response, CancellationToken ct)
    {
        _response = response;
        _ct = ct;
    }

    /// <summary>Sends the 200 and event-stream headers; after this, errors can only travel inside the stream.</summary>
    public static async Task<SseWriter> StartAsync(HttpContext ctx)
    {
        var r = ctx.Response;
        r.StatusCode = StatusCodes.Status200OK;
        r.ContentType = "text/event-stream; charset=utf-8";
        r.Headers.CacheControl = "no-cache";
        // Reverse proxies (nginx) would otherwise hold tokens back until their buffer fills.
        r.Headers["X-Accel-Buffering"] = "no";
        ctx.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        await r.StartAsync(ctx.RequestAborted);
        return new SseWriter(r, ctx.RequestAborted);
    }

    public Task WriteAsync(JsonNode data) => WriteRawAsync(Encoding.UTF8.GetBytes($"data: {OpenAiJson.Serialize(data)}\n\n"));

    public Task WriteDoneAsync() => WriteRawAsync(s_done);

    /// <summary>An error after the stream began: one data line with the error object ([DONE] follows).</summary>
    public Task WriteErrorAsync(OpenAiException e) => WriteAsync(e.ToError().ToJson());

    private async Task WriteRawAsync(byte[] bytes)
    {
        await _response.Body.WriteAsync(bytes, _ct);
        await _response.Body.FlushAsync(_ct);
    }

    /// <summary>
    /// Runs a stream body: a failure inside it becomes an error event, a client that went away ends it quietly.
    /// </summary>
    public static async Task RunAsync(HttpContext ctx, Func<SseWriter, Task> body, Microsoft.Extensions.Logging.ILogger? log = null)
    {
        var sse = await StartAsync(ctx);
        try
        {
            await body(sse);
        }
        catch (Exception) when (ctx.RequestAborted.IsCancellationRequested)
        {
            // Nobody is listening; the engine request was aborted through RequestAborted.
        }
        catch (Exception e)
        {
            // Then [DONE], as vLLM does: clients that wait for it (the OpenAI SDKs) end cleanly after the error.
            await sse.WriteErrorAsync(ErrorMapping.Map(e, log));
            await sse.WriteDoneAsync();
        }
    }
}
