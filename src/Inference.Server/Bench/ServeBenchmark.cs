using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Inference.Server.Bench;

/// <summary>Settings of `inference bench serve`.</summary>
public sealed record ServeBenchmarkOptions
{
    public required Uri Url { get; init; }
    public string? Model { get; init; }
    public string? ApiKey { get; init; }
    public int NumPrompts { get; init; } = 100;
    public int Concurrency { get; init; } = 16;
    public int InputLen { get; init; } = 32;
    public int OutputLen { get; init; } = 64;
    public ulong Seed { get; init; }
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromMinutes(10);

    public void Validate()
    {
        if (NumPrompts < 1) throw new InferenceException($"--num-prompts must be >= 1, got {NumPrompts}");
        if (Concurrency < 1) throw new InferenceException($"--concurrency must be >= 1, got {Concurrency}");
        if (InputLen < 1 || OutputLen < 1) throw new InferenceException("--input-len and --output-len must be >= 1");
    }
}

/// <summary>
/// Load test of a running OpenAI-compatible server (this one or vLLM), like `vllm bench serve` with its random
/// dataset: seeded prompts of exactly --input-len tokens, streamed /v1/completions with ignore_eos so each yields
/// --output-len tokens, at most --concurrency in flight.
/// </summary>
public static class ServeBenchmark
{
    public static async Task<BenchReport> RunAsync(ServeBenchmarkOptions o, Action<string>? log = null, CancellationToken ct = default)
    {
        o.Validate();
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = o.Concurrency })
        {
            BaseAddress = o.Url,
            Timeout = o.RequestTimeout,
        };
        if (o.ApiKey is not null) http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", o.ApiKey);
        string model;
        int[][] prompts;
        try
        {
            model = o.Model ?? await FirstModelAsync(http, ct);
            prompts = await PromptsAsync(http, model, o, ct);
        }
        catch (HttpRequestException e)
        {
            throw new InferenceException($"cannot reach the server at {o.Url}: {e.Message}");
        }
        log?.Invoke($"bench serve: {o.NumPrompts} prompts of {o.InputLen} tokens, {o.OutputLen} output tokens, concurrency {o.Concurrency}, model {model}");

        var results = new BenchRequestResult[o.NumPrompts];
        int next = -1;
        var sw = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, Math.Min(o.Concurrency, o.NumPrompts)).Select(_ => Task.Run(async () =>
        {
            for (int i = Interlocked.Increment(ref next); i < o.NumPrompts; i = Interlocked.Increment(ref next))
                results[i] = await StreamOneAsync(http, model, prompts[i], o.OutputLen, ct);
        }, ct));
        await Task.WhenAll(workers);
        return BenchReport.From(results, sw.Elapsed.TotalSeconds);
    }

    private static async Task<string> FirstModelAsync(HttpClient http, CancellationToken ct)
    {
        using var doc = JsonDocument.Parse(await GetOkAsync(http, "/v1/models", ct));
        var data = doc.RootElement.GetProperty("data");
        if (data.GetArrayLength() == 0) throw new InferenceException("the server lists no models");
        return data[0].GetProperty("id").GetString()!;
    }

    private static async Task<string> GetOkAsync(HttpClient http, string path, CancellationToken ct)
    {
        using var r = await http.GetAsync(path, ct);
        string body = await r.Content.ReadAsStringAsync(ct);
        if (!r.IsSuccessStatusCode) throw new InferenceException($"GET {path}: HTTP {(int)r.StatusCode}: {body}");
        return body;
    }

    /// <summary>
    /// Real token ids from the server's own tokenizer (via /tokenize of seeded random words), cut into prompts of
    /// exactly InputLen tokens at seeded random offsets, so every run with the same seed sends the same prompts.
    /// </summary>
    private static async Task<int[][]> PromptsAsync(HttpClient http, string model, ServeBenchmarkOptions o, CancellationToken ct)
    {
        string[] words = ["the", "a", "little", "girl", "boy", "dog", "cat", "big", "red", "ball", "tree", "park", "happy", "sad", "day",
            "sun", "played", "saw", "went", "to", "and", "with", "her", "his", "mom", "friend", "toy", "house", "car", "bird", "fish", "water"];
        var rng = new Random(unchecked((int)o.Seed));
        var text = new StringBuilder();
        for (int i = 0; i < o.InputLen * 2 + 64; i++) text.Append(words[rng.Next(words.Length)]).Append(' ');
        using var response = await http.PostAsJsonAsync("/tokenize", new { model, prompt = text.ToString(), add_special_tokens = false }, ct);
        string body = await response.Content.ReadAsStringAsync(ct);
        if (!response.IsSuccessStatusCode) throw new InferenceException($"POST /tokenize: HTTP {(int)response.StatusCode}: {body}");
        using var doc = JsonDocument.Parse(body);
        int[] pool = [.. doc.RootElement.GetProperty("tokens").EnumerateArray().Select(e => e.GetInt32())];
        if (pool.Length < o.InputLen) throw new InferenceException($"/tokenize gave {pool.Length} tokens, fewer than --input-len {o.InputLen}");
        var prompts = new int[o.NumPrompts][];
        for (int i = 0; i < prompts.Length; i++)
            prompts[i] = pool.AsSpan(rng.Next(pool.Length - o.InputLen + 1), o.InputLen).ToArray();
        return prompts;
    }

    private static async Task<BenchRequestResult> StreamOneAsync(HttpClient http, string model, int[] prompt, int outputLen, CancellationToken ct)
    {
        var sw = Stopwatch.StartNew();
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/completions")
            {
                Content = JsonContent.Create(new
                {
                    model, prompt, max_tokens = outputLen, temperature = 0, ignore_eos = true, stream = true,
                    stream_options = new { include_usage = true },
                }),
            };
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
            if (!response.IsSuccessStatusCode)
                return Failed(sw, $"HTTP {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(ct)}");
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(ct), Encoding.UTF8);
            double ttft = 0, last = 0;
            var itl = new List<double>(outputLen);
            int promptTokens = prompt.Length, outputTokens = 0, chunks = 0;
            while (await reader.ReadLineAsync(ct) is { } line)
            {
                if (!line.StartsWith("data: ", StringComparison.Ordinal)) continue;
                if (line.AsSpan(6).SequenceEqual("[DONE]"))
                    return new BenchRequestResult(true, sw.Elapsed.TotalSeconds, ttft, itl, promptTokens, outputTokens > 0 ? outputTokens : chunks);
                double now = sw.Elapsed.TotalSeconds;
                using var doc = JsonDocument.Parse(line.AsMemory(6));
                var root = doc.RootElement;
                if (root.TryGetProperty("error", out var error)) return Failed(sw, error.ToString());
                if (root.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
                {
                    promptTokens = usage.GetProperty("prompt_tokens").GetInt32();
                    outputTokens = usage.GetProperty("completion_tokens").GetInt32();
                }
                if (!root.TryGetProperty("choices", out var choices) || choices.GetArrayLength() == 0) continue;
                if (choices[0].GetProperty("text").GetString() is not { Length: > 0 }) continue;
                // As vLLM: the first chunk with text is the first token; each later chunk adds one inter-token gap.
                if (chunks++ == 0) ttft = now;
                else itl.Add(now - last);
                last = now;
            }
            return Failed(sw, "the stream ended without [DONE]");
        }
        catch (Exception e) when (e is HttpRequestException or IOException or JsonException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            return Failed(sw, $"{e.GetType().Name}: {e.Message}");
        }
    }

    private static BenchRequestResult Failed(Stopwatch sw, string error) => new(false, sw.Elapsed.TotalSeconds, 0, [], 0, 0, error);
}
