using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Inference.Kernels.Cpu;

/// <summary>
/// A quantized weight as the integer kernels read it: per (row, 32-block) the 32 weights as unsigned bytes
/// in the activations' <see cref="BlockLayout"/>, the integer correction for their offset, and the scales.
/// Structs, so each kernel is compiled once per format with every call inlined.
/// </summary>
internal unsafe interface IIntWeights
{
    /// <summary>True when a scale varies per block (int4 groups); false for one scale per row (int8), applied at the end.</summary>
    bool BlockScaled { get; }

    /// <summary>The block's weights as unsigned bytes: int8 XOR 0x80 (w + 128), int4 the raw nibbles.</summary>
    Vector256<byte> Load(long row, int block);

    /// <summary>The accumulator's starting value from the activation's stored correction (lane sums times -128 or -8).</summary>
    Vector256<int> Correction(Vector256<int> stored, long row, int block);

    /// <summary>The weight scale of the block (int4) or of the row (int8).</summary>
    float Scale(long row, int block);
}

/// <summary>Symmetric int8 rows, one F32 scale per row.</summary>
internal readonly unsafe struct Int8Weights(HostWeight w) : IIntWeights
{
    private readonly sbyte* _data = (sbyte*)w.Data;
    private readonly long _ld = w.Cols;
    private readonly float* _scales = (float*)w.Scales;

    public bool BlockScaled => false;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<byte> Load(long row, int block) =>
        (Vector256.Load((byte*)_data + row * _ld + block * 32) ^ Vector256.Create((byte)0x80));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<int> Correction(Vector256<int> stored, long row, int block) => stored;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Scale(long row, int block) => _scales[row];
}

/// <summary>
/// Int4 rows in groups of 32·n with F16 scales; symmetric (zero point 8) or with a zero point per group.
/// The 16 bytes of a block go to both halves of a vector; the upper half is shifted right by 4, so after
/// masking the lower half holds the low nibbles (even elements) and the upper the high ones (odd elements),
/// the order <see cref="BlockLayout.Nibbles"/> gives the activations.
/// </summary>
internal readonly unsafe struct Int4Weights(HostWeight w) : IIntWeights
{
    private readonly byte* _data = (byte*)w.Data;
    private readonly long _ld = w.Cols / 2;
    private readonly ushort* _scales = (ushort*)w.Scales;
    private readonly byte* _zeros = w.ZeroPoints;
    private readonly int _groups = w.Cols / w.GroupSize;
    private readonly int _blocksPerGroup = w.GroupSize / 32;

    public bool BlockScaled => true;

    private static readonly Vector256<uint> s_shifts = Vector256.Create(0u, 0, 0, 0, 4, 4, 4, 4);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<byte> Load(long row, int block)
    {
        var b = Vector128.Load(_data + row * _ld + block * 16);
        var both = Vector256.Create(b, b).AsUInt32();
        return (Avx2.ShiftRightLogicalVariable(both, s_shifts).AsByte() & Vector256.Create((byte)0x0F));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<int> Correction(Vector256<int> stored, long row, int block)
    {
        if (_zeros == null) return stored;
        // stored = -8 * sums exactly, so the shift is exact: -z * sums.
        int z = _zeros[row * _groups + block / _blocksPerGroup];
        return Avx2.MultiplyLow(Avx2.ShiftRightArithmetic(stored, 3), Vector256.Create(z));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Scale(long row, int block) => HalfBits.ToSingle(_scales[row * _groups + block / _blocksPerGroup]);
}

/// <summary>F16 bits to F32, exact for every finite value (scales are finite), without the library's slow path.</summary>
internal static class HalfBits
{
    private static readonly float s_pow112 = BitConverter.UInt32BitsToSingle(0x77800000u);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float ToSingle(ushort h)
    {
        // Exponent and mantissa moved into F32 position and rescaled by 2^(127-15): exact for normals and subnormals.
        float mag = BitConverter.UInt32BitsToSingle((uint)(h & 0x7FFF) << 13) * s_pow112;
        return (h & 0x8000) != 0 ? -mag : mag;
    }
}
