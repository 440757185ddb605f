using System.Text;
using System.Text.Json.Nodes;
using Inference.Engine;
using Inference.Models;
using Inference.Tests;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;

namespace Inference.Server.Tests;

/// <summary>stories260K served by the real Kestrel server on a free loopback port.</summary>
public class ServerFixture : IAsyncLifetime
{
    private readonly List<WebApplication> _apps = [];
    private Kernels.IComputeBackend? _backend;

    public LoadedModel Model { get; private set; } = null!;
    public LlmEngine Engine { get; private set; } = null!;
    public string BaseUrl { get; private set; } = "";
    public HttpClient Http { get; } = new(NoDrainHandler()) { Timeout = TimeSpan.FromMinutes(2) };

    /// <summary>
    /// A handler that closes a connection whose response is disposed unread. By default SocketsHttpHandler reads on for up
    /// to 2 s (1 MB) to reuse it, so a "client leaves mid-stream" test would see the whole stream consumed instead.
    /// </summary>
    public static SocketsHttpHandler NoDrainHandler() => new() { MaxResponseDrainSize = 0 };

    protected virtual EngineOptions EngineOptions => new() { KvCacheMemory = 16L * 1024 * 1024, MaxNumSeqs = 16 };

    protected virtual string ModelDir => RepoPaths.Stories260K;

    protected virtual void Configure(LlmEngine engine) { }

    public async Task InitializeAsync()
    {
        Model = LoadedModel.Load(ModelDir);
        _backend = BackendFactory.Create("cpu", 2);
        Engine = new LlmEngine(Model, _backend, EngineOptions);
        Configure(Engine);
        BaseUrl = await StartAsync(new ServerOptions { Port = 0 }, ModelSlot.Ready(Engine));
    }

    /// <summary>Starts another host (other options, or an unready slot) and returns its base URL.</summary>
    public async Task<string> StartAsync(ServerOptions options, ModelSlot slot)
    {
        var app = ServerHost.Build(options, slot, b => b.Logging.ClearProviders());
        await app.StartAsync();
        _apps.Add(app);
        return ServerHost.Addresses(app).Single();
    }

    public async Task<(int Status, JsonNode? Body, HttpResponseMessage Response)> PostAsync(string path, string json, string? baseUrl = null)
    {
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        var response = await Http.PostAsync((baseUrl ?? BaseUrl) + path, content);
        string text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text), response);
    }

    public Task<(int Status, JsonNode? Body, HttpResponseMessage Response)> PostAsync(string path, JsonNode body, string? baseUrl = null) =>
        PostAsync(path, body.ToJsonString(), baseUrl);

    public async Task DisposeAsync()
    {
        foreach (var app in _apps)
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
        Http.Dispose();
        Engine.Dispose();
        _backend?.Dispose();
        Model.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class ServerCollection : ICollectionFixture<ServerFixture>
{
    public const string Name = "server";
}
