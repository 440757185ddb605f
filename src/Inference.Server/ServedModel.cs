using Inference.Engine;
using Inference.Server.Errors;
using Inference.Templating;
using Inference.Tokenization;

namespace Inference.Server;

/// <summary>The engine plus what requests check against it: its public name and its parsed chat template.</summary>
public sealed class ServedModel
{
    private readonly Lazy<ChatTemplate?> _template;

    public LlmEngine Engine { get; }
    public string Name { get; }
    public ITokenizer Tokenizer => Engine.Model.Tokenizer;
    public int MaxModelLen => Engine.MaxModelLen;

    public ServedModel(LlmEngine engine, string name)
    {
        Engine = engine;
        Name = name;
        // Parsed once on first use; a template that does not parse fails every chat request the same way.
        _template = new Lazy<ChatTemplate?>(() => engine.Model.Tokenizer.ChatTemplate is { } t ? ChatTemplate.Parse(t) : null);
    }

    /// <summary>The model's chat template, or a 400 when tokenizer_config.json has none.</summary>
    public ChatTemplate RequireChatTemplate() =>
        _template.Value ?? throw OpenAiException.BadRequest(
            $"the model `{Name}` has no chat template (tokenizer_config.json has no chat_template); use /v1/completions instead");

    /// <summary>404 when a request names a model other than this one; a missing name means this one.</summary>
    public void CheckModelName(string? requested)
    {
        if (requested is not null && requested != Name) throw OpenAiException.ModelNotFound(requested);
    }

    public void ThrowIfOverloaded()
    {
        if (Engine.IsOverloaded) throw OpenAiException.Overloaded();
    }
}
