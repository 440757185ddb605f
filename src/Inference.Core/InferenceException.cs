namespace Inference;

/// <summary>An error the user can act on: bad model files, bad config, bad request values.</summary>
public class InferenceException : Exception
{
    public InferenceException(string message) : base(message) { }

    public InferenceException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>A model file (safetensors, config.json, tokenizer.json) that cannot be used; the message names the file.</summary>
public sealed class ModelFormatException : InferenceException
{
    public string FilePath { get; }

    public string? TensorName { get; }

    public ModelFormatException(string filePath, string message, string? tensorName = null)
        : base(Format(filePath, tensorName, message))
    {
        FilePath = filePath;
        TensorName = tensorName;
    }

    public ModelFormatException(string filePath, string message, Exception inner, string? tensorName = null)
        : base(Format(filePath, tensorName, message), inner)
    {
        FilePath = filePath;
        TensorName = tensorName;
    }

    private static string Format(string file, string? tensor, string message) =>
        tensor is null ? $"{file}: {message}" : $"{file}: tensor '{tensor}': {message}";
}
