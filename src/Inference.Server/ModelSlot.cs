using Inference.Engine;
using Inference.Server.Errors;

namespace Inference.Server;

/// <summary>
/// Holds the served model once it is loaded, so the server can listen (and /health answer 503) while it loads.
/// </summary>
public sealed class ModelSlot
{
    private volatile ServedModel? _model;

    public bool IsReady => _model is not null;

    /// <summary>Publishes the loaded engine; <paramref name="servedName"/> null uses the model folder's name.</summary>
    public void SetReady(LlmEngine engine, string? servedName = null) =>
        _model = new ServedModel(engine, servedName ?? engine.Model.Name);

    /// <summary>A slot that is ready from the start (tests, run-batch).</summary>
    public static ModelSlot Ready(LlmEngine engine, string? servedName = null)
    {
        var slot = new ModelSlot();
        slot.SetReady(engine, servedName);
        return slot;
    }

    /// <summary>The served model, or a 503 while it is still loading.</summary>
    public ServedModel Require() => _model ?? throw OpenAiException.Loading();
}
