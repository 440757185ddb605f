namespace Inference.Kernels;

/// <summary>How a weight matrix is stored in memory.</summary>
public enum WeightFormat
{
    F32,
    F16,
    BF16,
    /// <summary>Symmetric int8, one F32 scale per output row.</summary>
    Int8,
    /// <summary>Group-wise int4 (two per byte, low nibble first), F16 scales per group, optional zero points.</summary>
    Int4,
}
