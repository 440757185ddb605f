using ILGPU;
using Half = ILGPU.Half;

namespace Inference.Kernels.Ilgpu.Kernels;

/// <summary>
/// Reads one element of a device weight as F32. Kernels are generic over the reader so every format gets
/// its own specialized kernel and the dequantization happens in registers, next to the use.
/// </summary>
public interface IWeightReader
{
    int Cols { get; }
    float Load(int row, int col);
}

/// <summary>F32 weights.</summary>
public struct F32Reader : IWeightReader
{
    public ArrayView<float> Data;
    public int ColCount;
    public readonly int Cols => ColCount;
    public readonly float Load(int row, int col) => Data[(long)row * ColCount + col];
}

/// <summary>F16 weights, kept as halves on the device.</summary>
public struct F16Reader : IWeightReader
{
    public ArrayView<Half> Data;
    public int ColCount;
    public readonly int Cols => ColCount;
    public readonly float Load(int row, int col) => Data[(long)row * ColCount + col];
}

/// <summary>BF16 weights as raw 16-bit words: ILGPU has no bfloat16, and BF16 is the high half of an F32.</summary>
public struct Bf16Reader : IWeightReader
{
    public ArrayView<ushort> Data;
    public int ColCount;
    public readonly int Cols => ColCount;
    public readonly float Load(int row, int col) => Interop.IntAsFloat((uint)Data[(long)row * ColCount + col] << 16);
}

/// <summary>Symmetric int8 with one F32 scale per row.</summary>
public struct Int8Reader : IWeightReader
{
    public ArrayView<sbyte> Data;
    public ArrayView<float> Scales;
    public int ColCount;
    public readonly int Cols => ColCount;
    public readonly float Load(int row, int col) => Data[(long)row * ColCount + col] * Scales[row];
}

/// <summary>Group-wise int4, two per byte (low nibble first), F16 scales per group, zero points or 8.</summary>
public struct Int4Reader : IWeightReader
{
    public ArrayView<byte> Data;
    public ArrayView<Half> Scales;
    /// <summary>[Rows, Groups] zero points; a one-byte dummy when HasZeros is 0.</summary>
    public ArrayView<byte> Zeros;
    public int HasZeros;
    public int ColCount;
    public int GroupSize;
    public readonly int Cols => ColCount;

    public readonly float Load(int row, int col)
    {
        int packed = Data[(long)row * (ColCount >> 1) + (col >> 1)];
        int q = (packed >> ((col & 1) * 4)) & 0xF;
        long g = (long)row * (ColCount / GroupSize) + col / GroupSize;
        int zero = HasZeros != 0 ? Zeros[g] : 8;
        return (q - zero) * (float)Scales[g];
    }
}
