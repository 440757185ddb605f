using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Inference.Safetensors;

/// <summary>Bit-exact conversions between float and the 16-bit formats checkpoints are stored in.</summary>
public static class HalfConversions
{
    public static float BF16ToFloat(ushort b) => BitConverter.Int32BitsToSingle(b << 16);

    /// <summary>Rounds to nearest, ties to even; NaN stays NaN (quieted) rather than rounding to infinity.</summary>
    public static ushort FloatToBF16(float f)
    {
        uint bits = BitConverter.SingleToUInt32Bits(f);
        if (float.IsNaN(f))
            return (ushort)((bits >> 16) | 0x0040);
        uint roundingBias = 0x7FFF + ((bits >> 16) & 1);
        return (ushort)((bits + roundingBias) >> 16);
    }

    public static float F16ToFloat(ushort h) => (float)BitConverter.UInt16BitsToHalf(h);

    public static void F16ToF32(ReadOnlySpan<ushort> src, Span<float> dst)
    {
        CheckLengths(src, dst);
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            Span<uint> dstBits = MemoryMarshal.Cast<float, uint>(dst);
            for (; i <= src.Length - Vector256<ushort>.Count; i += Vector256<ushort>.Count)
            {
                (Vector256<uint> lo, Vector256<uint> hi) = Vector256.Widen(Vector256.Create(src.Slice(i, Vector256<ushort>.Count)));
                F16BitsToF32Bits(lo).CopyTo(dstBits.Slice(i));
                F16BitsToF32Bits(hi).CopyTo(dstBits.Slice(i + Vector256<uint>.Count));
            }
        }
        for (; i < src.Length; i++)
            dst[i] = F16ToFloat(src[i]);
    }

    public static void BF16ToF32(ReadOnlySpan<ushort> src, Span<float> dst)
    {
        CheckLengths(src, dst);
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            Span<uint> dstBits = MemoryMarshal.Cast<float, uint>(dst);
            for (; i <= src.Length - Vector256<ushort>.Count; i += Vector256<ushort>.Count)
            {
                (Vector256<uint> lo, Vector256<uint> hi) = Vector256.Widen(Vector256.Create(src.Slice(i, Vector256<ushort>.Count)));
                Vector256.ShiftLeft(lo, 16).CopyTo(dstBits.Slice(i));
                Vector256.ShiftLeft(hi, 16).CopyTo(dstBits.Slice(i + Vector256<uint>.Count));
            }
        }
        for (; i < src.Length; i++)
            dst[i] = BF16ToFloat(src[i]);
    }

    /// <summary>
    /// Rebias the exponent, then fix the two special ranges: Inf/NaN keep an all-ones exponent, and
    /// subnormals are renormalised by letting the FPU subtract the implicit bit (exact, no rounding).
    /// </summary>
    private static Vector256<uint> F16BitsToF32Bits(Vector256<uint> h)
    {
        Vector256<uint> expMask = Vector256.Create(0x7C00u << 13);
        Vector256<uint> magnitude = Vector256.ShiftLeft(h & Vector256.Create(0x7FFFu), 13);
        Vector256<uint> exp = magnitude & expMask;
        Vector256<uint> o = magnitude + Vector256.Create((127u - 15u) << 23);

        Vector256<uint> infNan = Vector256.Equals(exp, expMask);
        o = Vector256.ConditionalSelect(infNan, o + Vector256.Create((128u - 16u) << 23), o);

        Vector256<uint> subnormal = Vector256.Equals(exp, Vector256<uint>.Zero);
        Vector256<float> renormalised = (o + Vector256.Create(1u << 23)).AsSingle() - Vector256.Create(113u << 23).AsSingle();
        o = Vector256.ConditionalSelect(subnormal, renormalised.AsUInt32(), o);

        return o | Vector256.ShiftLeft(h & Vector256.Create(0x8000u), 16);
    }

    private static void CheckLengths(ReadOnlySpan<ushort> src, Span<float> dst)
    {
        if (dst.Length < src.Length)
            throw new ArgumentException($"destination holds {dst.Length} floats, source has {src.Length}", nameof(dst));
    }
}
