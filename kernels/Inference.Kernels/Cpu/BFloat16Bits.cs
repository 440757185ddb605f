using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Inference.Kernels.Cpu;

/// <summary>
/// bfloat16 conversions for the KV cache: F32 to BF16 rounds to nearest even (NaN stays a quiet NaN, infinities
/// stay infinite, values past the largest BF16 round to infinity as IEEE rounding says); BF16 to F32 is exact (the
/// bits shifted up). The SIMD and scalar paths give the same bits.
/// </summary>
internal static unsafe class BFloat16Bits
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort FromSingle(float f)
    {
        uint u = BitConverter.SingleToUInt32Bits(f);
        if (float.IsNaN(f)) return (ushort)((u >> 16) | 0x40);
        return (ushort)((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float ToSingle(ushort b) => BitConverter.UInt32BitsToSingle((uint)b << 16);

    /// <summary>Rounds n floats to BF16.</summary>
    public static void Narrow(float* src, ushort* dst, int n)
    {
        int i = 0;
        if (Avx512F.IsSupported)
        {
            var one = Vector512.Create(1u);
            var bias = Vector512.Create(0x7FFFu);
            var quiet = Vector512.Create(0x40u);
            for (; i + 16 <= n; i += 16)
            {
                var f = Vector512.Load(src + i);
                var u = f.AsUInt32();
                var rounded = (u + bias + ((u >> 16) & one)) >> 16;
                var nan = Vector512.Equals(f, f).AsUInt32();
                var r = Vector512.ConditionalSelect(nan, rounded, (u >> 16) | quiet);
                Avx512F.ConvertToVector256UInt16(r).Store(dst + i);
            }
        }
        for (; i < n; i++) dst[i] = FromSingle(src[i]);
    }

    /// <summary>Widens n BF16 values to F32 (exact).</summary>
    public static void Widen(ushort* src, float* dst, int n)
    {
        int i = 0;
        if (Avx512F.IsSupported)
        {
            for (; i + 16 <= n; i += 16)
                (Avx512F.ConvertToVector512UInt32(Vector256.Load(src + i)) << 16).AsSingle().Store(dst + i);
        }
        for (; i < n; i++) dst[i] = ToSingle(src[i]);
    }
}
