namespace Inference.Safetensors;

/// <summary>Where one tensor lives in a safetensors file and what it holds.</summary>
public sealed class TensorInfo
{
    public required string Name { get; init; }
    public required DType DType { get; init; }
    public required long[] Shape { get; init; }
    public required long ElementCount { get; init; }
    public required long ByteLength { get; init; }
    public required string FilePath { get; init; }

    /// <summary>Absolute offset of the first byte in the file (header already accounted for).</summary>
    public required long DataOffset { get; init; }

    public override string ToString() => $"{Name} {DTypes.Name(DType)}[{string.Join(",", Shape)}]";
}
