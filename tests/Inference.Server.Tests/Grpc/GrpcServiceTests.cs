using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Health.V1;
using Grpc.Reflection.V1Alpha;
using Inference.Grpc.V1;
using Inference.Server.Errors;
using Inference.Server.Grpc;
using GrpcClient = Inference.Grpc.V1.Inference.InferenceClient;

namespace Inference.Server.Tests.Grpc;

/// <summary>Health, reflection, authentication and status codes of the gRPC front end.</summary>
[Collection(GrpcServerCollection.Name)]
public sealed class GrpcServiceTests(GrpcServerFixture server)
{
    private static DateTime Deadline => DateTime.UtcNow.AddSeconds(30);

    [Fact]
    public async Task Health_IsServing_WithoutApiKey()
    {
        var health = new Health.HealthClient(server.Channel);
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, (await health.CheckAsync(new HealthCheckRequest(), deadline: Deadline)).Status);
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving,
            (await health.CheckAsync(new HealthCheckRequest { Service = GrpcHealth.ServiceName }, deadline: Deadline)).Status);
    }

    [Fact]
    public async Task Reflection_ListsTheServices()
    {
        var reflection = new ServerReflection.ServerReflectionClient(server.Channel.Intercept(GrpcServerFixture.WithKey(GrpcServerFixture.ApiKey)));
        using var call = reflection.ServerReflectionInfo(deadline: Deadline);
        await call.RequestStream.WriteAsync(new ServerReflectionRequest { ListServices = "" });
        await call.RequestStream.CompleteAsync();
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        var names = call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name).ToArray();
        Assert.Contains("inference.v1.Inference", names);
        Assert.Contains("grpc.health.v1.Health", names);
    }

    [Fact]
    public async Task MissingOrWrongKey_IsUnauthenticated()
    {
        var anonymous = new GrpcClient(server.Channel);
        var e = await Assert.ThrowsAsync<RpcException>(() => anonymous.ListModelsAsync(new ListModelsRequest(), deadline: Deadline).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, e.StatusCode);

        var wrong = new GrpcClient(server.Channel.Intercept(GrpcServerFixture.WithKey("not-the-key")));
        e = await Assert.ThrowsAsync<RpcException>(() => wrong.ListModelsAsync(new ListModelsRequest(), deadline: Deadline).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, e.StatusCode);

        using var stream = wrong.Generate(new GenerateRequest { Text = "Once" }, deadline: Deadline);
        e = await Assert.ThrowsAsync<RpcException>(() => stream.ResponseStream.MoveNext(CancellationToken.None));
        Assert.Equal(StatusCode.Unauthenticated, e.StatusCode);
    }

    public static TheoryData<string, GenerateRequest> BadRequests() => new()
    {
        { "no prompt", new GenerateRequest() },
        { "empty text", new GenerateRequest { Text = "" } },
        { "negative temperature", new GenerateRequest { Text = "Once", Sampling = new SamplingParams { Temperature = -1 } } },
        { "top_p above 1", new GenerateRequest { Text = "Once", Sampling = new SamplingParams { TopP = 1.5f } } },
        { "max_tokens 0", new GenerateRequest { Text = "Once", Sampling = new SamplingParams { MaxTokens = 0 } } },
        { "max_tokens beyond the context", new GenerateRequest { Text = "Once", Sampling = new SamplingParams { MaxTokens = 100_000 } } },
        { "token id outside the vocabulary", Ids(1, 100_000) },
        { "negative token id", Ids(1, -3) },
    };

    private static GenerateRequest Ids(params int[] ids)
    {
        var r = new GenerateRequest { TokenIds = new TokenIds() };
        r.TokenIds.Ids.Add(ids);
        return r;
    }

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task BadArguments_AreInvalidArgument(string what, GenerateRequest request)
    {
        var e = await Assert.ThrowsAsync<RpcException>(() => server.Client.CompleteAsync(request, deadline: Deadline).ResponseAsync);
        Assert.True(e.StatusCode == StatusCode.InvalidArgument, $"{what}: {e.Status}");
        using var stream = server.Client.Generate(request, deadline: Deadline);
        e = await Assert.ThrowsAsync<RpcException>(() => stream.ResponseStream.MoveNext(CancellationToken.None));
        Assert.True(e.StatusCode == StatusCode.InvalidArgument, $"{what} (streaming): {e.Status}");
    }

    [Fact]
    public async Task UnknownModel_IsNotFound()
    {
        var e = await Assert.ThrowsAsync<RpcException>(() =>
            server.Client.CompleteAsync(new GenerateRequest { Model = "gpt-9", Text = "Once" }, deadline: Deadline).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, e.StatusCode);
        e = await Assert.ThrowsAsync<RpcException>(() =>
            server.Client.TokenizeAsync(new TokenizeRequest { Model = "gpt-9", Text = "Once" }, deadline: Deadline).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, e.StatusCode);
    }

    [Fact]
    public void ErrorMapping_CoversOverloadLoadingAndEngineFailures()
    {
        Assert.Equal(StatusCode.ResourceExhausted, GrpcErrors.Map(OpenAiException.Overloaded()).StatusCode);
        Assert.Equal(StatusCode.Unavailable, GrpcErrors.Map(OpenAiException.Loading()).StatusCode);
        Assert.Equal(StatusCode.InvalidArgument, GrpcErrors.Map(new InferenceException("bad")).StatusCode);
        Assert.Equal(StatusCode.Internal, GrpcErrors.Map(new Generation.GenerationFailedException("boom")).StatusCode);
        Assert.Equal(StatusCode.Internal, GrpcErrors.Map(new InvalidOperationException("bug")).StatusCode);
    }
}
