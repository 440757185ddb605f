using System.Text.Json;
using System.Text.Json.Nodes;
using Inference.Server.Errors;
using Inference.Server.OpenAi;
using Inference.Server.Requests;

namespace Inference.Server.Batch;

/// <summary>
/// OpenAI Batch files (as `vllm run-batch`): every line is parsed and answered like the HTTP endpoint would,
/// all lines run through the engine together, and results are written in input order.
/// </summary>
public static class BatchRunner
{
    /// <summary>Runs every request line of <paramref name="lines"/>; returns how many lines failed.</summary>
    public static async Task<int> RunAsync(ServedModel model, IReadOnlyList<string> lines, TextWriter output,
        Action<string>? progress = null, CancellationToken ct = default)
    {
        int total = lines.Count(l => !string.IsNullOrWhiteSpace(l));
        int done = 0, failed = 0;
        var work = new List<Task<JsonObject>>();
        for (int i = 0; i < lines.Count; i++)
            if (!string.IsNullOrWhiteSpace(lines[i]))
                work.Add(Tracked(RunLineAsync(model, lines[i], i + 1, ct), i + 1));
        foreach (var task in work)
        {
            var result = await task;
            if (result["error"] is not null || (int?)result["response"]?["status_code"] != 200) failed++;
            await output.WriteLineAsync(OpenAiJson.Serialize(result));
        }
        await output.FlushAsync(ct);
        return failed;

        async Task<JsonObject> Tracked(Task<JsonObject> line, int lineNumber)
        {
            var result = await line;
            progress?.Invoke($"[{Interlocked.Increment(ref done)}/{total}] line {lineNumber} done");
            return result;
        }
    }

    private static async Task<JsonObject> RunLineAsync(ServedModel model, string line, int lineNumber, CancellationToken ct)
    {
        await Task.Yield(); // parse and tokenize off the caller's thread so lines overlap
        string id = OpenAiJson.NewId("batch_req_");
        string? customId = null;
        try
        {
            using var doc = RequestBody.Parse(line);
            var r = new RequestReader(doc.RootElement);
            customId = r.String("custom_id") ?? throw BatchLineError($"line {lineNumber}: 'custom_id' is required");
            string method = r.String("method") ?? "POST";
            if (method != "POST") throw BatchLineError($"line {lineNumber}: method must be POST, got '{method}'");
            string url = r.String("url") ?? throw BatchLineError($"line {lineNumber}: 'url' is required");
            if (r.Get("body") is not { } body) throw BatchLineError($"line {lineNumber}: 'body' is required");
            try
            {
                var response = url switch
                {
                    "/v1/completions" => await CompletionAsync(model, body, ct),
                    "/v1/chat/completions" => await ChatAsync(model, body, ct),
                    _ => throw BatchLineError($"line {lineNumber}: url must be /v1/completions or /v1/chat/completions, got '{url}'"),
                };
                return Line(id, customId, Response(id, 200, response), null);
            }
            catch (Exception e) when (e is not BatchLineException)
            {
                // A request the endpoint would refuse gets the same status and error body it would get over HTTP.
                var error = ErrorMapping.Map(e);
                return Line(id, customId, Response(id, error.Status, error.ToError().ToJson()), null);
            }
        }
        catch (Exception e)
        {
            string message = e is OpenAiException o ? $"line {lineNumber}: {o.Message}" : e.Message;
            return Line(id, customId, null, new JsonObject { ["code"] = "invalid_request", ["message"] = message });
        }
    }

    private static Task<JsonObject> CompletionAsync(ServedModel model, JsonElement body, CancellationToken ct)
    {
        var req = CompletionRequest.Parse(body, model);
        NoStream(req.Streaming);
        return CompletionsEndpoint.RunAsync(model, req, ct);
    }

    private static Task<JsonObject> ChatAsync(ServedModel model, JsonElement body, CancellationToken ct)
    {
        var req = ChatRequest.Parse(body, model);
        NoStream(req.Streaming);
        return ChatCompletionsEndpoint.RunAsync(model, req, ct);
    }

    // Batch results are whole bodies; a stream cannot be written into one line.
    private static void NoStream(StreamSettings s)
    {
        if (s.Stream) throw OpenAiException.BadRequest("'stream' is not supported in a batch file", "stream");
    }

    private static JsonObject Response(string id, int status, JsonObject body) =>
        new() { ["status_code"] = status, ["request_id"] = id, ["body"] = body };

    private static JsonObject Line(string id, string? customId, JsonObject? response, JsonObject? error) =>
        new() { ["id"] = id, ["custom_id"] = customId, ["response"] = response, ["error"] = error };

    private static BatchLineException BatchLineError(string message) => new(message);

    private sealed class BatchLineException(string message) : Exception(message);
}
