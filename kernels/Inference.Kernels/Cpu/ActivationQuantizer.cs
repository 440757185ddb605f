using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Inference.Kernels.Cpu;

/// <summary>Order of the 32 quantized activations of a block, chosen to match how the weight bytes unpack.</summary>
public enum BlockLayout
{
    /// <summary>Element order (int8 weights).</summary>
    Natural,
    /// <summary>Even elements, then odd ones: the low nibbles of 16 int4 bytes, then the high nibbles.</summary>
    Nibbles,
}

/// <summary>
/// One activation row quantized to int8 in blocks of 32: q (K bytes, in <see cref="BlockLayout"/> order),
/// a scale per block, and per block the sums of q over each group of four positions (the eight int32 lanes
/// of a vpdpbusd) times minus the weights' offset (128 for int8 bytes XORed to unsigned, 8 for int4
/// nibbles): the exact correction a kernel starts each block's integer accumulator from.
/// </summary>
public readonly unsafe struct QuantizedRow(sbyte* q, float* scales, int* corrections)
{
    public readonly sbyte* Q = q;
    public readonly float* Scales = scales;
    public readonly int* Corrections = corrections;
}

/// <summary>
/// Quantizes F32 activation rows per 32-block: scale = max|x| / 127, q = round-to-nearest-even(x / scale).
/// Per row only and deterministic, so a row's quantized form (and every dot built on it) does not depend
/// on the batch. The SIMD and scalar paths give the same bytes.
/// </summary>
public static unsafe class ActivationQuantizer
{
    public const int Block = 32;

    /// <summary>Bytes one quantized row of <paramref name="k"/> elements takes (64-byte multiple).</summary>
    public static long RowBytes(int k) => ((long)k + (k / Block) * (4 + 32) + 63) & ~63L;

    /// <summary>The pieces of the row at <paramref name="row"/> in a buffer laid out by <see cref="RowBytes"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static QuantizedRow At(byte* buffer, int k, int row)
    {
        byte* p = buffer + row * RowBytes(k);
        int blocks = k / Block;
        return new QuantizedRow((sbyte*)p, (float*)(p + k), (int*)(p + k + blocks * 4));
    }

    public static void Quantize(float* x, int k, QuantizedRow dst, BlockLayout layout)
    {
        int blocks = k / Block;
        for (int b = 0; b < blocks; b++)
        {
            if (Avx512F.IsSupported && Avx512BW.IsSupported)
                BlockSimd(x + b * Block, dst.Q + b * Block, dst.Scales + b, dst.Corrections + b * 8, layout);
            else
                BlockScalar(x + b * Block, dst.Q + b * Block, dst.Scales + b, dst.Corrections + b * 8, layout);
        }
    }

    /// <summary>1 / scale, 0 for an all-zero block; shared by both paths so they round identically.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Inverse(float amax, out float scale)
    {
        scale = amax / 127f;
        return scale == 0f ? 0f : 1f / scale;
    }

    /// <summary>What the lane sums are multiplied by: minus the offset the layout's weights carry.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int CorrectionFactor(BlockLayout layout) => layout == BlockLayout.Natural ? -128 : -8;

    /// <summary>Position p of a block holds element Source(p).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Source(BlockLayout layout, int p) => layout == BlockLayout.Natural ? p : p < 16 ? 2 * p : 2 * (p - 16) + 1;

    private static void BlockScalar(float* x, sbyte* q, float* scale, int* corr, BlockLayout layout)
    {
        float amax = 0f;
        for (int i = 0; i < Block; i++) amax = MathF.Max(amax, MathF.Abs(x[i]));
        float inv = Inverse(amax, out *scale);
        for (int p = 0; p < Block; p++)
            q[p] = (sbyte)Math.Clamp((int)MathF.Round(x[Source(layout, p)] * inv, MidpointRounding.ToEven), -127, 127);
        int f = CorrectionFactor(layout);
        for (int l = 0; l < 8; l++) corr[l] = f * (q[4 * l] + q[4 * l + 1] + q[4 * l + 2] + q[4 * l + 3]);
    }

    private static void BlockSimd(float* x, sbyte* q, float* scale, int* corr, BlockLayout layout)
    {
        var lo = Vector512.Load(x);
        var hi = Vector512.Load(x + 16);
        float amax = MaxOf(Vector512.Max(Vector512.Abs(lo), Vector512.Abs(hi)));
        var inv = Vector512.Create(Inverse(amax, out *scale));
        // vcvtps2dq rounds to nearest even (the default MXCSR mode), as MathF.Round(ToEven) does; |x * inv| <= 127.
        var ql = Avx512F.ConvertToVector128SByteWithSaturation(Avx512F.ConvertToVector512Int32(lo * inv));
        var qh = Avx512F.ConvertToVector128SByteWithSaturation(Avx512F.ConvertToVector512Int32(hi * inv));
        var v = Vector256.Create(ql, qh);
        if (layout == BlockLayout.Nibbles)
        {
            // Within each 16-byte lane evens then odds, then the quadwords reordered to (evens, evens, odds, odds).
            v = Avx2.Shuffle(v.AsByte(), s_evensThenOdds).AsSByte();
            v = Avx2.Permute4x64(v.AsInt64(), 0b11_01_10_00).AsSByte();
        }
        v.Store(q);
        (LaneSums(v) * Vector256.Create(CorrectionFactor(layout))).Store(corr);
    }

    private static readonly Vector256<byte> s_evensThenOdds = Vector256.Create(
        (byte)0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15,
        0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float MaxOf(Vector512<float> m)
    {
        var m256 = Vector256.Max(m.GetLower(), m.GetUpper());
        var m128 = Vector128.Max(m256.GetLower(), m256.GetUpper());
        float r = 0f;
        for (int i = 0; i < 4; i++) r = MathF.Max(r, m128.GetElement(i));
        return r;
    }

    /// <summary>Sums of four consecutive bytes per int32 lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> LaneSums(Vector256<sbyte> v)
    {
        if (AvxVnni.IsSupported) return AvxVnni.MultiplyWideningAndAdd(Vector256<int>.Zero, Vector256.Create((byte)1), v);
        return Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(Vector256.Create((byte)1), v), Vector256.Create((short)1));
    }

    /// <summary>Pinned per-thread storage for quantized rows; grows, never shrinks, so steady-state calls allocate nothing.</summary>
    internal static byte* Buffer(ref byte[]? cache, long bytes)
    {
        if (cache is null || cache.Length < bytes) cache = GC.AllocateUninitializedArray<byte>((int)Math.Max(bytes, 4096), pinned: true);
        return (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(cache));
    }
}
