using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Inference.Kernels.Cpu;

/// <summary>
/// How one <see cref="InterleavedWeight"/> format feeds vpdpbusd. Structs, so each kernel is compiled once per
/// format with every call inlined and the format's branches folded away.
/// </summary>
internal unsafe interface IPackedFormat
{
    /// <summary>True when each block has its own scales (int4 groups); false for one scale per row (int8), applied at the end.</summary>
    bool BlockScaled { get; }

    /// <summary>True when there are zero points per row and block (int4 with zero points).</summary>
    bool HasZeroPoints { get; }

    /// <summary>Bytes of one half (eight rows) of a block.</summary>
    int HalfBytes { get; }

    /// <summary>Step v (0..7, a constant after inlining) of a half's block: lane r = row r's weights 4v..4v+3 as unsigned bytes.</summary>
    Vector256<byte> Step(byte* block, int v);

    /// <summary>A block's integer accumulator start: minus the weights' offset times the activation block's sum (exact).</summary>
    Vector256<int> Init(int sum, byte* zeros);
}

/// <summary>Int8 stored as w + 128, one scale per row.</summary>
internal readonly unsafe struct Int8Packed : IPackedFormat
{
    public bool BlockScaled => false;

    public bool HasZeroPoints => false;

    public int HalfBytes => 256;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<byte> Step(byte* block, int v) => Vector256.Load(block + 32 * v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<int> Init(int sum, byte* zeros) => Vector256.Create(-128 * sum);
}

/// <summary>Int4 nibbles (w + 8 when symmetric, w + z with zero points), a scale per block.</summary>
internal readonly unsafe struct Int4Packed<TZ> : IPackedFormat where TZ : struct, IZeroPoints
{
    public bool BlockScaled => true;

    public bool HasZeroPoints => default(TZ).Present;

    public int HalfBytes => 128;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<byte> Step(byte* block, int v)
    {
        var bytes = Vector256.Load(block + 32 * (v & 3));
        if (v >= 4) bytes = Vector256.ShiftRightLogical(bytes.AsUInt16(), 4).AsByte();
        return bytes & Vector256.Create((byte)0x0F);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<int> Init(int sum, byte* zeros) => default(TZ).Present
        ? Avx2.MultiplyLow(Avx2.ConvertToVector256Int32(zeros), Vector256.Create(-sum))
        : Vector256.Create(-8 * sum);
}

/// <summary>Whether int4 weights carry zero points, as a type.</summary>
internal interface IZeroPoints
{
    bool Present { get; }
}

/// <summary>Symmetric int4: zero point 8.</summary>
internal readonly struct Symmetric : IZeroPoints
{
    public bool Present => false;
}

/// <summary>Int4 with a zero point per group.</summary>
internal readonly struct WithZeroPoints : IZeroPoints
{
    public bool Present => true;
}
