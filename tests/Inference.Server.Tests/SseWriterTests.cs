using System.Text;
using System.Text.Json.Nodes;
using Inference.Server.Generation;
using Inference.Server.Sse;
using Microsoft.AspNetCore.Http;

namespace Inference.Server.Tests;

/// <summary>What a stream looks like when generation fails after the 200 was sent.</summary>
public class SseWriterTests
{
    [Fact]
    public async Task Error_during_a_stream_is_one_error_event_then_done()
    {
        var ctx = new DefaultHttpContext();
        var body = new MemoryStream();
        ctx.Response.Body = body;
        await SseWriter.RunAsync(ctx, async sse =>
        {
            await sse.WriteAsync(new JsonObject { ["n"] = 1 });
            throw new GenerationFailedException("the engine step failed");
        });
        string text = Encoding.UTF8.GetString(body.ToArray());
        Assert.Equal(200, ctx.Response.StatusCode);
        Assert.StartsWith("text/event-stream", ctx.Response.ContentType);
        var events = text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, events.Length);
        Assert.Equal("data: {\"n\":1}", events[0]);
        var error = JsonNode.Parse(events[1]["data: ".Length..])!["error"]!;
        Assert.Contains("the engine step failed", (string)error["message"]!);
        Assert.Equal("internal_server_error", (string)error["type"]!);
        // As vLLM: [DONE] follows the error, so clients waiting for it end cleanly.
        Assert.Equal("data: [DONE]", events[2]);
    }

    [Fact]
    public async Task Bad_value_found_mid_stream_is_a_400_style_error_event()
    {
        var ctx = new DefaultHttpContext { Response = { Body = new MemoryStream() } };
        await SseWriter.RunAsync(ctx, _ => throw new InferenceException("token id 9999 is outside the vocabulary"));
        string text = Encoding.UTF8.GetString(((MemoryStream)ctx.Response.Body).ToArray());
        var events = text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["data: [DONE]"], events[1..]);
        var error = JsonNode.Parse(events[0]["data: ".Length..])!["error"]!;
        Assert.Equal("invalid_request_error", (string)error["type"]!);
        Assert.Contains("9999", (string)error["message"]!);
    }
}
