using System.CommandLine;
using Inference.Engine;
using Inference.Models;
using Inference.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Hosting;

namespace Inference.Cli.Commands;

/// <summary>`inference serve`: the OpenAI-compatible HTTP server.</summary>
internal static class ServeCommand
{
    public const string ApiKeyVariable = "INFERENCE_API_KEY";

    public static Command Create()
    {
        var common = new CommonOptions();
        var host = new Option<string>("--host") { Description = "address to bind (0.0.0.0 for all interfaces)", DefaultValueFactory = _ => "127.0.0.1" };
        var port = new Option<int>("--port") { Description = "HTTP port", DefaultValueFactory = _ => 8000 };
        var grpcPort = new Option<int>("--grpc-port") { Description = "gRPC port", DefaultValueFactory = _ => 50051 };
        var apiKey = new Option<string?>("--api-key") { Description = $"require 'Authorization: Bearer KEY' (default: ${ApiKeyVariable})" };
        var name = new Option<string?>("--served-model-name") { Description = "model name clients send (default: the model folder's name)" };
        var maxWaiting = new Option<int>("--max-waiting") { Description = "waiting requests beyond which new ones get 429 (-1: unlimited)", DefaultValueFactory = _ => -1 };
        var cmd = new Command("serve", "Serve the model over an OpenAI-compatible HTTP API");
        common.AddEngineOptions(cmd);
        foreach (var o in new Option[] { host, port, grpcPort, apiKey, name, maxWaiting }) cmd.Options.Add(o);
        // Synchronous on purpose: the web host handles SIGTERM itself (graceful drain up to the shutdown timeout),
        // which System.CommandLine's cancellation of async actions would cut short.
        cmd.SetAction(r =>
        {
            var options = new ServerOptions
            {
                Host = r.GetValue(host)!,
                Port = r.GetValue(port),
                GrpcPort = r.GetValue(grpcPort),
                ApiKey = r.GetValue(apiKey) ?? NonEmpty(Environment.GetEnvironmentVariable(ApiKeyVariable)),
                ServedModelName = r.GetValue(name),
            };
            var engineOptions = common.EngineOptions(r) with { MaxWaiting = r.GetValue(maxWaiting) };
            return RunAsync(common, r, options, engineOptions).GetAwaiter().GetResult();
        });
        return cmd;
    }

    private static string? NonEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;

    private static async Task<int> RunAsync(CommonOptions common, ParseResult r, ServerOptions options, EngineOptions engineOptions)
    {
        engineOptions.Validate();
        var slot = new ModelSlot();
        await using var app = FrontEnds.Build(options, slot);
        await app.StartAsync();
        LoadedModel? model = null;
        Kernels.IComputeBackend? backend = null;
        LlmEngine? engine = null;
        try
        {
            // Load after listening so /health can answer 503 while the weights are read.
            (model, backend, engine) = await Task.Run(() =>
            {
                var m = common.LoadModel(r);
                var b = common.Backend(r);
                return (m, b, new LlmEngine(m, b, engineOptions, CommonOptions.Log));
            });
            slot.SetReady(engine, options.ServedModelName);
            var served = slot.Require();
            foreach (var url in ServerHost.Addresses(app))
                CommonOptions.Log($"serving '{served.Name}' at {url}/v1 (max context {served.MaxModelLen} tokens{(options.ApiKey is null ? "" : ", API key required")})");
            await app.WaitForShutdownAsync();
            return 0;
        }
        catch (InferenceException e)
        {
            CommonOptions.Log($"error: {e.Message}");
            await app.StopAsync();
            return 1;
        }
        finally
        {
            // The host has drained in-flight requests by now; only then may the engine go.
            engine?.Dispose();
            backend?.Dispose();
            model?.Dispose();
        }
    }
}
