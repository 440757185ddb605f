using System.Text;
using Inference.Engine;
using Inference.Execution;
using Inference.Scheduling;

namespace Inference.Server.Generation;

/// <summary>Everything one choice produced, accumulated from its engine outputs.</summary>
public sealed class ChoiceResult(int index, int[] promptTokenIds)
{
    private readonly StringBuilder _text = new();

    public int Index { get; } = index;
    public int[] PromptTokenIds { get; } = promptTokenIds;
    public string Text => _text.ToString();
    public List<int> TokenIds { get; } = [];
    public List<TokenLogprobs> Logprobs { get; } = [];
    public FinishReason? FinishReason { get; private set; }
    public int CompletionTokens { get; private set; }

    public void Add(RequestOutput o)
    {
        _text.Append(o.TextDelta);
        TokenIds.AddRange(o.TokenIds);
        if (o.Logprobs is not null) Logprobs.AddRange(o.Logprobs);
        CompletionTokens = o.CompletionTokens;
        if (o.Finished) FinishReason = o.FinishReason;
    }
}

/// <summary>All choices of a finished request and its token counts.</summary>
public sealed record GenerationResult(IReadOnlyList<ChoiceResult> Choices, int PromptTokens)
{
    public int CompletionTokens => Choices.Sum(c => c.CompletionTokens);
}
