namespace Inference.Safetensors;

/// <summary>Element types a safetensors file can hold that this server understands.</summary>
public enum DType
{
    F32,
    F16,
    BF16,
    I8,
    U8,
    I32,
    I64,
    F64,
}
