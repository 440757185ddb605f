using Grpc.Core;
using Inference.Grpc.V1;
using Inference.Server.Requests;
using SamplingParams = Inference.Sampling.SamplingParams;

namespace Inference.Server.Grpc;

/// <summary>A checked Generate/Complete request: the served model, the prompt's token ids and the sampling settings.</summary>
public sealed record GrpcGenerationRequest(ServedModel Model, string Id, int[] PromptTokenIds, SamplingParams Sampling)
{
    private const int DefaultMaxTokens = 16;

    /// <summary>Applies the same checks and defaults as /v1/completions; failures surface as gRPC statuses.</summary>
    public static GrpcGenerationRequest From(GenerateRequest request, ModelSlot slot)
    {
        var model = slot.Require();
        model.CheckModelName(request.Model.Length == 0 ? null : request.Model);
        int[] prompt = request.PromptCase switch
        {
            GenerateRequest.PromptOneofCase.Text when request.Text.Length > 0 => model.Tokenizer.Encode(request.Text, addSpecialTokens: true),
            GenerateRequest.PromptOneofCase.TokenIds when request.TokenIds.Ids.Count > 0 => request.TokenIds.Ids.ToArray(),
            _ => throw new RpcException(new Status(StatusCode.InvalidArgument, "the request needs a non-empty prompt: set 'text' or 'token_ids'")),
        };
        int vocab = model.Engine.Model.Config.VocabSize;
        foreach (int id in prompt)
            if ((uint)id >= (uint)vocab)
                throw new RpcException(new Status(StatusCode.InvalidArgument, $"token id {id} is outside the vocabulary [0, {vocab})"));
        var s = request.Sampling ?? new Inference.Grpc.V1.SamplingParams();
        int maxTokens = SamplingReader.MaxTokens(s.HasMaxTokens ? s.MaxTokens : null, "max_tokens", s.HasMaxTokens ? null : DefaultMaxTokens, [prompt], model);
        var d = model.Engine.Model.Defaults;
        var p = new SamplingParams
        {
            // As /v1/completions: a field left out falls back to generation_config.json.
            MaxTokens = maxTokens,
            Temperature = s.HasTemperature ? s.Temperature : d.Temperature ?? 1f,
            TopP = s.HasTopP ? s.TopP : d.TopP ?? 1f,
            TopK = s.HasTopK ? s.TopK : d.TopK ?? 0,
            MinP = s.HasMinP ? s.MinP : 0f,
            RepetitionPenalty = s.HasRepetitionPenalty ? s.RepetitionPenalty : d.RepetitionPenalty ?? 1f,
            PresencePenalty = s.HasPresencePenalty ? s.PresencePenalty : 0f,
            FrequencyPenalty = s.HasFrequencyPenalty ? s.FrequencyPenalty : 0f,
            Seed = s.HasSeed ? s.Seed : null,
            Stop = s.Stop.ToArray(),
            StopTokenIds = s.StopTokenIds.ToArray(),
            IgnoreEos = s.IgnoreEos,
        };
        if (s.HasTemperature && s.Temperature > 2f)
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"temperature must be in [0, 2], got {s.Temperature}"));
        foreach (int id in p.StopTokenIds)
            if ((uint)id >= (uint)vocab)
                throw new RpcException(new Status(StatusCode.InvalidArgument, $"stop_token_ids holds {id}, outside the vocabulary [0, {vocab})"));
        p.Validate(); // InferenceException -> INVALID_ARGUMENT
        model.ThrowIfOverloaded();
        // Engine ids must be unique, so the server always makes its own.
        return new GrpcGenerationRequest(model, "grpc-" + Guid.NewGuid().ToString("N"), prompt, p);
    }
}
