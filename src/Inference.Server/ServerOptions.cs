namespace Inference.Server;

/// <summary>Network, security and naming settings of the HTTP server (the `serve` command's options).</summary>
public sealed record ServerOptions
{
    /// <summary>IP address to bind, or "localhost"; loopback by default so nothing is exposed by accident.</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>HTTP port; 0 picks a free one (tests).</summary>
    public int Port { get; init; } = 8000;

    /// <summary>Port of the gRPC service (HTTP/2 only, its own listener); 0 picks a free port.</summary>
    public int GrpcPort { get; init; } = 50051;

    /// <summary>When set, every route but /health and /metrics needs "Authorization: Bearer KEY".</summary>
    public string? ApiKey { get; init; }

    /// <summary>The name clients use in "model"; null uses the model folder's name.</summary>
    public string? ServedModelName { get; init; }

    public long MaxRequestBodyBytes { get; init; } = 4 * 1024 * 1024;

    /// <summary>How long in-flight requests may run on after SIGTERM before the process exits anyway.</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Seconds a client told 429 should wait (the Retry-After header).</summary>
    public int RetryAfterSeconds { get; init; } = 1;

    public void Validate()
    {
        if (Port is < 0 or > 65535) throw new InferenceException($"--port must be in [0, 65535], got {Port}");
        if (GrpcPort is < 0 or > 65535) throw new InferenceException($"--grpc-port must be in [0, 65535], got {GrpcPort}");
        if (ApiKey is { Length: 0 }) throw new InferenceException("--api-key must not be empty");
        if (ServedModelName is { Length: 0 }) throw new InferenceException("--served-model-name must not be empty");
        if (MaxRequestBodyBytes < 1024) throw new InferenceException($"the request body limit must be at least 1024 bytes, got {MaxRequestBodyBytes}");
    }
}
