using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Inference.Kernels.Cpu;

/// <summary>
/// A quantized weight as the integer kernels read it: per (row, 32-block) the 32 weights as unsigned bytes
/// in the activations' <see cref="BlockLayout"/>, the integer correction for their offset, and the scales.
/// Structs, so each kernel is compiled once per format with every call inlined. A row is addressed by its
/// data pointer (<see cref="Row"/>) and its index into the per-row metadata (<see cref="Meta"/>), both
/// computed once per row outside the block loop.
/// </summary>
internal unsafe interface IIntWeights
{
    /// <summary>True when a scale varies per block (int4 groups); false for one scale per row (int8), applied at the end.</summary>
    bool BlockScaled { get; }

    byte* Row(long row);

    /// <summary>Where the row's scales (and zero points) start.</summary>
    long Meta(long row);

    /// <summary>The group of a block.</summary>
    int Group(int block);

    /// <summary>The block's weights as unsigned bytes: int8 XOR 0x80 (w + 128), int4 the raw nibbles.</summary>
    Vector256<byte> Load(byte* row, int block);

    /// <summary>The accumulator's starting value from the activation's stored correction (lane sums times -128 or -8).</summary>
    Vector256<int> Correction(Vector256<int> stored, long meta, int group);

    /// <summary>The weight scale of the group (int4) or of the row (int8).</summary>
    float Scale(long meta, int group);

    /// <summary>Where the row's group scales start (block-scaled formats): lets a kernel hoist the address out of its block loop.</summary>
    float* ScaleRow(long meta);
}

/// <summary>Symmetric int8 rows, one F32 scale per row.</summary>
internal readonly unsafe struct Int8Weights(HostWeight w) : IIntWeights
{
    private readonly byte* _data = (byte*)w.Data;
    private readonly long _ld = w.Cols;
    private readonly float* _scales = (float*)w.Scales;

    public bool BlockScaled => false;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public byte* Row(long row) => _data + row * _ld;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public long Meta(long row) => row;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Group(int block) => 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<byte> Load(byte* row, int block) => Vector256.Load(row + block * 32) ^ Vector256.Create((byte)0x80);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<int> Correction(Vector256<int> stored, long meta, int group) => stored;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Scale(long meta, int group) => _scales[meta];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float* ScaleRow(long meta) => _scales + meta;
}

/// <summary>
/// Int4 rows in groups of 32·2^n with F16 scales. The 16 bytes of a block go to both halves of a vector,
/// the upper half shifted right by 4, so after masking the lower half holds the low nibbles (even
/// elements) and the upper the high ones (odd elements), the order <see cref="BlockLayout.Nibbles"/> gives
/// the activations. <typeparamref name="TZ"/> says whether there are zero points (a type, not a field, so the
/// kernels carry no per-block branch on it).
/// </summary>
internal readonly unsafe struct Int4Weights<TZ> : IIntWeights where TZ : struct, IZeroPoints
{
    [ThreadStatic] private static byte[]? t_scales;

    private readonly byte* _data;
    private readonly long _ld;
    private readonly float* _scales;
    private readonly long _scaleBase;
    private readonly byte* _zeros;
    private readonly int _groups;
    private readonly int _groupShift;

    /// <summary>Rows [o0, o1) of <paramref name="w"/>: scales from <see cref="HostWeight.WideScales"/>, or widened here once, not per block and row.</summary>
    public Int4Weights(HostWeight w, int o0, int o1)
    {
        _data = (byte*)w.Data;
        _ld = w.Cols / 2;
        _zeros = w.ZeroPoints;
        _groups = w.Cols / w.GroupSize;
        _groupShift = System.Numerics.BitOperations.Log2((uint)(w.GroupSize / 32));
        int n = (o1 - o0) * _groups;
        _scaleBase = (long)o0 * _groups;
        if (w.WideScales != null)
        {
            _scales = w.WideScales + _scaleBase;
            return;
        }
        // Not widened at load (a weight used without the backend): widen this band's scales now.
        // Exact either way (HalfWiden and HalfBits agree on every finite value); vectorized, 16 per step.
        _scales = (float*)ActivationQuantizer.Buffer(ref t_scales, n * 4L);
        HalfWiden.Run((Half*)w.Scales + _scaleBase, _scales, n);
    }

    public bool BlockScaled => true;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public byte* Row(long row) => _data + row * _ld;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public long Meta(long row) => row * _groups;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Group(int block) => block >> _groupShift;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<byte> Load(byte* row, int block)
    {
        // A 128-bit shift and an insert: measured ~11% faster per int4 decode step than a broadcast and a
        // variable shift (vpsrlvd), with the same bytes.
        var lo = Vector128.Load(row + block * 16);
        return Vector256.Create(lo, Vector128.ShiftRightLogical(lo.AsUInt16(), 4).AsByte()) & Vector256.Create((byte)0x0F);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<int> Correction(Vector256<int> stored, long meta, int group)
    {
        if (!default(TZ).Present) return stored;
        // stored = -8 * sums exactly, so the shift is exact: -z * sums.
        return Avx2.MultiplyLow(Avx2.ShiftRightArithmetic(stored, 3), Vector256.Create((int)_zeros[meta + group]));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Scale(long meta, int group) => _scales[meta - _scaleBase + group];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float* ScaleRow(long meta) => _scales + (meta - _scaleBase);
}

/// <summary>Whether int4 weights carry zero points, as a type.</summary>
internal interface IZeroPoints
{
    bool Present { get; }
}

/// <summary>Symmetric int4: zero point 8, folded into the stored correction.</summary>
internal readonly struct Symmetric : IZeroPoints
{
    public bool Present => false;
}

/// <summary>Int4 with a zero point per group.</summary>
internal readonly struct WithZeroPoints : IZeroPoints
{
    public bool Present => true;
}

/// <summary>F16 bits to F32, exact for every finite value (scales are finite), without the library's slow path.</summary>
internal static class HalfBits
{
    private const float Pow112 = 5.192296858534828e33f; // 2^112 = 2^(127 - 15), exactly

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float ToSingle(ushort h)
    {
        // Exponent and mantissa moved into F32 position and rescaled: exact for normals and subnormals.
        // The sign goes in with the bits: a branch on it would mispredict half the time (symmetric scales are max / -8).
        return BitConverter.UInt32BitsToSingle(((uint)(h & 0x8000) << 16) | ((uint)(h & 0x7FFF) << 13)) * Pow112;
    }
}
