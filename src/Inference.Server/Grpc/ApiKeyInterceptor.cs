using System.Security.Cryptography;
using System.Text;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace Inference.Server.Grpc;

/// <summary>
/// Checks "authorization: Bearer KEY" metadata against --api-key on every gRPC method but the health service,
/// which probes (kubelet, grpc_health_probe) call without credentials.
/// </summary>
public sealed class ApiKeyInterceptor(ServerOptions options) : Interceptor
{
    private const string HealthPrefix = "/grpc.health.v1.Health/";
    private readonly byte[]? _key = options.ApiKey is null ? null : Encoding.UTF8.GetBytes(options.ApiKey);

    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context,
        UnaryServerMethod<TRequest, TResponse> continuation)
    {
        Check(context);
        return continuation(request, context);
    }

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Check(context);
        return continuation(request, responseStream, context);
    }

    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream,
        ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Check(context);
        return continuation(requestStream, context);
    }

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream,
        IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Check(context);
        return continuation(requestStream, responseStream, context);
    }

    private void Check(ServerCallContext context)
    {
        if (_key is null || context.Method.StartsWith(HealthPrefix, StringComparison.Ordinal)) return;
        string? header = context.RequestHeaders.GetValue("authorization");
        if (header is null || !header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            throw new RpcException(new Status(StatusCode.Unauthenticated, "missing API key: send the metadata 'authorization: Bearer YOUR_KEY'"));
        // Constant-time so the comparison does not leak how much of the key matched.
        if (!CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(header["Bearer ".Length..].Trim()), _key))
            throw new RpcException(new Status(StatusCode.Unauthenticated, "incorrect API key"));
    }
}
