using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Inference.Kernels.Cpu;

/// <summary>
/// One activation row quantized to int8 in blocks of 32: q (K bytes, element order), a scale per block, and
/// per block the exact sum of its 32 q values, from which a kernel starts the block's integer accumulator
/// (minus the weights' offset times the sum: the weights enter vpdpbusd as unsigned bytes).
/// </summary>
public readonly unsafe struct QuantizedRow(sbyte* q, float* scales, int* sums)
{
    public readonly sbyte* Q = q;
    public readonly float* Scales = scales;
    public readonly int* Sums = sums;
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
    public static long RowBytes(int k) => ((long)k + (k / Block) * (4 + 4) + 63) & ~63L;

    /// <summary>The pieces of the row at <paramref name="row"/> in a buffer laid out by <see cref="RowBytes"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static QuantizedRow At(byte* buffer, int k, int row)
    {
        byte* p = buffer + row * RowBytes(k);
        int blocks = k / Block;
        return new QuantizedRow((sbyte*)p, (float*)(p + k), (int*)(p + k + blocks * 4));
    }

    public static void Quantize(float* x, int k, QuantizedRow dst)
    {
        int blocks = k / Block;
        for (int b = 0; b < blocks; b++)
        {
            if (Avx512F.IsSupported && Avx512BW.IsSupported)
                BlockSimd(x + b * Block, dst.Q + b * Block, dst.Scales + b, dst.Sums + b);
            else
                BlockScalar(x + b * Block, dst.Q + b * Block, dst.Scales + b, dst.Sums + b);
        }
    }

    /// <summary>1 / scale, 0 for an all-zero block; shared by both paths so they round identically.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Inverse(float amax, out float scale)
    {
        scale = amax / 127f;
        return scale == 0f ? 0f : 1f / scale;
    }

    private static void BlockScalar(float* x, sbyte* q, float* scale, int* sum)
    {
        float amax = 0f;
        for (int i = 0; i < Block; i++) amax = MathF.Max(amax, MathF.Abs(x[i]));
        float inv = Inverse(amax, out *scale);
        int total = 0;
        for (int i = 0; i < Block; i++)
        {
            q[i] = (sbyte)Math.Clamp((int)MathF.Round(x[i] * inv, MidpointRounding.ToEven), -127, 127);
            total += q[i];
        }
        *sum = total;
    }

    private static void BlockSimd(float* x, sbyte* q, float* scale, int* sum)
    {
        var lo = Vector512.Load(x);
        var hi = Vector512.Load(x + 16);
        float amax = MaxOf(Vector512.Max(Vector512.Abs(lo), Vector512.Abs(hi)));
        var inv = Vector512.Create(Inverse(amax, out *scale));
        // vcvtps2dq rounds to nearest even (the default MXCSR mode), as MathF.Round(ToEven) does; |x * inv| <= 127.
        var ql = Avx512F.ConvertToVector128SByteWithSaturation(Avx512F.ConvertToVector512Int32(lo * inv));
        var qh = Avx512F.ConvertToVector128SByteWithSaturation(Avx512F.ConvertToVector512Int32(hi * inv));
        var v = Vector256.Create(ql, qh);
        v.Store(q);
        // An integer sum: exact in any order.
        *sum = Vector256.Sum(Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(Vector256.Create((byte)1), v), Vector256.Create((short)1)));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float MaxOf(Vector512<float> m)
    {
        var m256 = Vector256.Max(m.GetLower(), m.GetUpper());
        var m128 = Vector128.Max(m256.GetLower(), m256.GetUpper());
        float r = 0f;
        for (int i = 0; i < 4; i++) r = MathF.Max(r, m128.GetElement(i));
        return r;
    }

    /// <summary>Pinned per-thread storage for quantized rows; grows, never shrinks, so steady-state calls allocate nothing.</summary>
    internal static byte* Buffer(ref byte[]? cache, long bytes)
    {
        if (cache is null || cache.Length < bytes) cache = GC.AllocateUninitializedArray<byte>((int)Math.Max(bytes, 4096), pinned: true);
        return (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(cache));
    }
}
