using System.Net.Http.Headers;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using Inference.Engine;
using Inference.Models;
using Inference.Tests;
using Microsoft.AspNetCore.Builder;
using GrpcClient = Inference.Grpc.V1.Inference.InferenceClient;

namespace Inference.Server.Tests;

/// <summary>
/// One real server from <see cref="FrontEnds.Build"/> on stories260K, on free loopback ports, with an API key:
/// HTTP (OpenAI API, /metrics) and gRPC. Shared by the gRPC, metrics and load tests, which run one at a time.
/// </summary>
public sealed class GrpcServerFixture : IAsyncLifetime
{
    public const string ApiKey = "test-key";

    public LoadedModel Model { get; private set; } = null!;
    public LlmEngine Engine { get; private set; } = null!;
    public WebApplication App { get; private set; } = null!;
    public GrpcChannel Channel { get; private set; } = null!;
    public string GrpcUrl { get; private set; } = "";
    public Uri HttpBase { get; private set; } = null!;

    /// <summary>A client that sends the API key.</summary>
    public GrpcClient Client { get; private set; } = null!;

    /// <summary>An HttpClient for the OpenAI API that sends the API key.</summary>
    public HttpClient Http { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Model = LoadedModel.Load(RepoPaths.Stories260K);
        Engine = new LlmEngine(Model, BackendFactory.Create("cpu", 2), new EngineOptions { MaxNumSeqs = 64 });
        App = FrontEnds.Build(new ServerOptions { Port = 0, GrpcPort = 0, ApiKey = ApiKey }, ModelSlot.Ready(Engine));
        using var start = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await App.StartAsync(start.Token);
        GrpcUrl = FrontEnds.GrpcUrl(App);
        HttpBase = new Uri(ServerHost.Addresses(App).Single(a => new Uri(a).Port != new Uri(GrpcUrl).Port));
        Channel = GrpcChannel.ForAddress(GrpcUrl);
        Client = new GrpcClient(Channel.Intercept(WithKey(ApiKey)));
        Http = new HttpClient(ServerFixture.NoDrainHandler()) { BaseAddress = HttpBase, Timeout = TimeSpan.FromSeconds(60) };
        Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ApiKey);
    }

    /// <summary>A metadata hook that adds "authorization: Bearer KEY" to every call.</summary>
    public static Func<Metadata, Metadata> WithKey(string key) => m =>
    {
        m.Add("authorization", $"Bearer {key}");
        return m;
    };

    /// <summary>Waits until the engine holds no request and every KV block is free again.</summary>
    public async Task WaitIdleAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (true)
        {
            var s = Engine.GetStats().Scheduler;
            if (s.NumRunning == 0 && s.NumWaiting == 0 && s.NumFreeBlocks == FreeBlocksWhenIdle) return;
            if (cts.IsCancellationRequested)
                throw new TimeoutException($"engine not idle after {timeout}: running {s.NumRunning}, waiting {s.NumWaiting}, free blocks {s.NumFreeBlocks} of {s.NumBlocks}");
            await Task.Delay(20, CancellationToken.None);
        }
    }

    /// <summary>GET /metrics, without the API key (scrapers have none).</summary>
    public async Task<string> ScrapeAsync()
    {
        using var plain = new HttpClient { BaseAddress = HttpBase, Timeout = TimeSpan.FromSeconds(30) };
        return await plain.GetStringAsync("/metrics");
    }

    /// <summary>The value of one series, e.g. <c>name{model_name="x"}</c>, in the current scrape; NaN when absent.</summary>
    public async Task<double> MetricAsync(string series) => MetricValue(await ScrapeAsync(), series);

    public static double MetricValue(string exposition, string series)
    {
        foreach (var line in exposition.Split('\n'))
            if (line.StartsWith(series + " ", StringComparison.Ordinal))
                return double.Parse(line.AsSpan(series.Length + 1).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        return double.NaN;
    }

    /// <summary>Block 0 is reserved by the scheduler, so an idle pool has all the others free.</summary>
    public int FreeBlocksWhenIdle => Engine.GetStats().Scheduler.NumBlocks - 1;

    public async Task DisposeAsync()
    {
        Http?.Dispose();
        Channel?.Dispose();
        if (App is not null)
        {
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await App.StopAsync(stop.Token);
            await App.DisposeAsync();
        }
        Engine?.Dispose();
        Model?.Dispose();
    }
}

/// <summary>The tests that share <see cref="GrpcServerFixture"/>; xUnit runs them one after another.</summary>
[CollectionDefinition(Name)]
public sealed class GrpcServerCollection : ICollectionFixture<GrpcServerFixture>
{
    public const string Name = "grpc-server";
}
