using Grpc.Core;
using Inference.Server.Errors;
using Inference.Server.Generation;
using Microsoft.AspNetCore.Http;

namespace Inference.Server.Grpc;

/// <summary>The one place that turns an exception into a gRPC status, mirroring the HTTP error mapping.</summary>
public static class GrpcErrors
{
    public static RpcException Map(Exception e) => e switch
    {
        RpcException r => r,
        OpenAiException o => new RpcException(new Status(FromHttp(o.Status), o.Message)),
        // Bad values (sampling ranges, token ids) are the client's to fix, as HTTP's 400.
        InferenceException i => new RpcException(new Status(StatusCode.InvalidArgument, i.Message)),
        GenerationFailedException g => new RpcException(new Status(StatusCode.Internal, g.Message)),
        OperationCanceledException => new RpcException(new Status(StatusCode.Cancelled, "the call was cancelled")),
        _ => new RpcException(new Status(StatusCode.Internal, $"internal server error: {e.GetType().Name}: {e.Message}")),
    };

    /// <summary>The gRPC code closest to an HTTP status the shared request checks produce.</summary>
    public static StatusCode FromHttp(int status) => status switch
    {
        StatusCodes.Status400BadRequest or StatusCodes.Status413PayloadTooLarge or StatusCodes.Status422UnprocessableEntity => StatusCode.InvalidArgument,
        StatusCodes.Status401Unauthorized => StatusCode.Unauthenticated,
        StatusCodes.Status403Forbidden => StatusCode.PermissionDenied,
        StatusCodes.Status404NotFound => StatusCode.NotFound,
        StatusCodes.Status429TooManyRequests => StatusCode.ResourceExhausted,
        StatusCodes.Status503ServiceUnavailable => StatusCode.Unavailable,
        _ => StatusCode.Internal,
    };
}
