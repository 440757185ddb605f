using System.Text;
using Grpc.Core;
using Inference.Engine;
using Inference.Grpc.V1;
using Inference.Server.Generation;

namespace Inference.Server.Grpc;

/// <summary>The inference.v1.Inference service: streaming and unary generation, tokenization, the model list.</summary>
public sealed class InferenceGrpcService(ModelSlot slot) : Inference.Grpc.V1.Inference.InferenceBase
{
    public override async Task Generate(GenerateRequest request, IServerStreamWriter<GenerateResponse> responseStream, ServerCallContext context)
    {
        var req = GrpcGenerationRequest.From(request, slot);
        // The call's token reaches AddRequest, so a client that cancels (or disconnects) aborts the engine request.
        await foreach (var e in GenerationRunner.StreamAsync(req.Model.Engine, req.Id, [req.PromptTokenIds], req.Sampling, context.CancellationToken))
        {
            var o = e.Output;
            if (o.Error is { } error) throw new GenerationFailedException(error);
            var response = new GenerateResponse { Text = o.TextDelta };
            response.TokenIds.Add(o.TokenIds);
            if (o.Finished)
            {
                response.FinishReason = FinishReasons.ToOpenAi(o.FinishReason) ?? "";
                response.Usage = UsageOf(o);
            }
            await responseStream.WriteAsync(response, context.CancellationToken);
        }
    }

    public override async Task<CompleteResponse> Complete(GenerateRequest request, ServerCallContext context)
    {
        var req = GrpcGenerationRequest.From(request, slot);
        var text = new StringBuilder();
        var response = new CompleteResponse { Id = req.Id, Model = req.Model.Name };
        await foreach (var e in GenerationRunner.StreamAsync(req.Model.Engine, req.Id, [req.PromptTokenIds], req.Sampling, context.CancellationToken))
        {
            var o = e.Output;
            if (o.Error is { } error) throw new GenerationFailedException(error);
            text.Append(o.TextDelta);
            response.TokenIds.Add(o.TokenIds);
            if (o.Finished)
            {
                response.FinishReason = FinishReasons.ToOpenAi(o.FinishReason) ?? "";
                response.Usage = UsageOf(o);
            }
        }
        context.CancellationToken.ThrowIfCancellationRequested();
        response.Text = text.ToString();
        return response;
    }

    public override Task<TokenizeResponse> Tokenize(TokenizeRequest request, ServerCallContext context)
    {
        var model = slot.Require();
        model.CheckModelName(request.Model.Length == 0 ? null : request.Model);
        var ids = model.Tokenizer.Encode(request.Text, request.HasAddSpecialTokens ? request.AddSpecialTokens : true);
        var response = new TokenizeResponse { Count = ids.Length, MaxModelLen = model.MaxModelLen };
        response.TokenIds.Add(ids);
        return Task.FromResult(response);
    }

    public override Task<ListModelsResponse> ListModels(ListModelsRequest request, ServerCallContext context)
    {
        var model = slot.Require();
        var response = new ListModelsResponse();
        response.Models.Add(new ModelInfo { Id = model.Name, MaxModelLen = model.MaxModelLen, VocabSize = model.Engine.Model.Config.VocabSize });
        return Task.FromResult(response);
    }

    private static Usage UsageOf(RequestOutput o) => new()
    {
        PromptTokens = o.PromptTokens,
        CompletionTokens = o.CompletionTokens,
        TotalTokens = o.PromptTokens + o.CompletionTokens,
        CachedPromptTokens = o.CachedPromptTokens,
    };
}
