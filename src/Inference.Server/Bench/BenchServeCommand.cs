using System.CommandLine;

namespace Inference.Server.Bench;

/// <summary>`inference bench serve`: the command-line face of <see cref="ServeBenchmark"/>.</summary>
public static class BenchServeCommand
{
    public static Command Create()
    {
        var url = new Option<string>("--url") { Description = "base URL of the server", DefaultValueFactory = _ => "http://127.0.0.1:8000" };
        var model = new Option<string?>("--model") { Description = "model name (default: the first of /v1/models)" };
        var apiKey = new Option<string?>("--api-key") { Description = "sent as 'Authorization: Bearer KEY' (default: $INFERENCE_API_KEY)" };
        var numPrompts = new Option<int>("--num-prompts") { Description = "requests to send", DefaultValueFactory = _ => 100 };
        var concurrency = new Option<int>("--concurrency") { Description = "most requests in flight at once", DefaultValueFactory = _ => 16 };
        var inputLen = new Option<int>("--input-len") { Description = "prompt tokens per request", DefaultValueFactory = _ => 32 };
        var outputLen = new Option<int>("--output-len") { Description = "generated tokens per request (ignore_eos)", DefaultValueFactory = _ => 64 };
        var seed = new Option<ulong>("--seed") { Description = "seed for the random prompts", DefaultValueFactory = _ => 0 };
        var json = new Option<bool>("--json") { Description = "print one JSON line" };
        var cmd = new Command("serve", "Load-test a running server with streamed /v1/completions (like vllm bench serve)");
        foreach (var o in new Option[] { url, model, apiKey, numPrompts, concurrency, inputLen, outputLen, seed, json }) cmd.Options.Add(o);
        cmd.SetAction(async (r, ct) =>
        {
            if (!Uri.TryCreate(r.GetValue(url), UriKind.Absolute, out var baseUrl) || baseUrl.Scheme is not ("http" or "https"))
                throw new InferenceException($"--url must be an http(s) URL, got '{r.GetValue(url)}'");
            var report = await ServeBenchmark.RunAsync(new ServeBenchmarkOptions
            {
                Url = baseUrl,
                Model = r.GetValue(model),
                ApiKey = r.GetValue(apiKey) ?? Environment.GetEnvironmentVariable("INFERENCE_API_KEY"),
                NumPrompts = r.GetValue(numPrompts),
                Concurrency = r.GetValue(concurrency),
                InputLen = r.GetValue(inputLen),
                OutputLen = r.GetValue(outputLen),
                Seed = r.GetValue(seed),
            }, r.GetValue(json) ? null : Console.Error.WriteLine, ct);
            Console.Write(r.GetValue(json) ? report.ToJson() + Environment.NewLine : report.ToText());
            return report.Failed == 0 ? 0 : 1;
        });
        return cmd;
    }
}
