using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Inference.Kernels.Cpu;

/// <summary>
/// Decode-time dot products that widen int8 / int4 weights in registers (no F32 copy of the row). The
/// widened value of every element is exactly the value <see cref="WeightTile"/> writes, and the lanes and
/// FMA order are those of <see cref="SimdDot.Dot4"/>, so the fused path and the tiled prefill path give
/// bit-identical results: a row does not change with the batch it is computed in.
/// </summary>
public static unsafe class QuantDot
{
    /// <summary>Whether the fused AVX-512 paths can run for this weight (else callers widen into a tile).</summary>
    public static bool Supports(HostWeight w) => Vector512.IsHardwareAccelerated && Avx512F.IsSupported && w.Format switch
    {
        WeightFormat.Int8 => true,
        WeightFormat.Int4 => w.GroupSize % 32 == 0 && w.GroupSize > 0,
        _ => false,
    };

    /// <summary>y[j] = sum_i x[i] * (float)w_j[i] for four int8 rows (the per-row scale is applied by the caller).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Int8Dot4(float* x, sbyte* w, long ldw, int n, float* y)
    {
        sbyte* w0 = w, w1 = w + ldw, w2 = w + 2 * ldw, w3 = w + 3 * ldw;
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
        int i = 0;
        for (; i + 16 <= n; i += 16)
        {
            var xv = Vector512.Load(x + i);
            a0 = Vector512.FusedMultiplyAdd(xv, Widen8(w0 + i), a0);
            a1 = Vector512.FusedMultiplyAdd(xv, Widen8(w1 + i), a1);
            a2 = Vector512.FusedMultiplyAdd(xv, Widen8(w2 + i), a2);
            a3 = Vector512.FusedMultiplyAdd(xv, Widen8(w3 + i), a3);
        }
        float t0 = 0f, t1 = 0f, t2 = 0f, t3 = 0f;
        for (; i < n; i++)
        {
            t0 = MathF.FusedMultiplyAdd(x[i], w0[i], t0);
            t1 = MathF.FusedMultiplyAdd(x[i], w1[i], t1);
            t2 = MathF.FusedMultiplyAdd(x[i], w2[i], t2);
            t3 = MathF.FusedMultiplyAdd(x[i], w3[i], t3);
        }
        y[0] = Vector512.Sum(a0) + t0;
        y[1] = Vector512.Sum(a1) + t1;
        y[2] = Vector512.Sum(a2) + t2;
        y[3] = Vector512.Sum(a3) + t3;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> Widen8(sbyte* p) =>
        Avx512F.ConvertToVector512Single(Avx512F.ConvertToVector512Int32(Vector128.Load(p)));

    /// <summary>
    /// y[j] = sum_i x[i] * (q_j[i] - zero) * scale for four int4 rows starting at <paramref name="row"/>;
    /// requires GroupSize % 32 == 0 (so n is a multiple of 32 and there is no tail).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Int4Dot4(float* x, HostWeight w, int row, float* y)
    {
        int n = w.Cols, gs = w.GroupSize, groups = n / gs;
        long ldw = n / 2;
        byte* q0 = (byte*)w.Data + row * ldw;
        Half* s0 = (Half*)w.Scales + (long)row * groups;
        byte* z0 = w.ZeroPoints == null ? null : w.ZeroPoints + (long)row * groups;
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
        for (int g = 0; g < groups; g++)
        {
            var t0 = Affine(s0, z0, g);
            var t1 = Affine(s0 + groups, z0 == null ? null : z0 + groups, g);
            var t2 = Affine(s0 + 2 * groups, z0 == null ? null : z0 + 2 * groups, g);
            var t3 = Affine(s0 + 3 * groups, z0 == null ? null : z0 + 3 * groups, g);
            int end = (g + 1) * gs;
            for (int i = g * gs; i < end; i += 32)
            {
                var xl = Vector512.Load(x + i);
                var xh = Vector512.Load(x + i + 16);
                Unpack4(q0 + i / 2, t0, out var l, out var h);
                a0 = Vector512.FusedMultiplyAdd(xh, h, Vector512.FusedMultiplyAdd(xl, l, a0));
                Unpack4(q0 + ldw + i / 2, t1, out l, out h);
                a1 = Vector512.FusedMultiplyAdd(xh, h, Vector512.FusedMultiplyAdd(xl, l, a1));
                Unpack4(q0 + 2 * ldw + i / 2, t2, out l, out h);
                a2 = Vector512.FusedMultiplyAdd(xh, h, Vector512.FusedMultiplyAdd(xl, l, a2));
                Unpack4(q0 + 3 * ldw + i / 2, t3, out l, out h);
                a3 = Vector512.FusedMultiplyAdd(xh, h, Vector512.FusedMultiplyAdd(xl, l, a3));
            }
        }
        y[0] = Vector512.Sum(a0) + 0f;
        y[1] = Vector512.Sum(a1) + 0f;
        y[2] = Vector512.Sum(a2) + 0f;
        y[3] = Vector512.Sum(a3) + 0f;
    }

    /// <summary>The group's 16 possible values (q - z) * s, one per lane: exact in F32, a lookup table for vpermps.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Affine(Half* scales, byte* zeros, int g) =>
        Table((float)scales[g], zeros == null ? 8f : zeros[g]);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> Table(float s, float z) => (s_nibbles - Vector512.Create(z)) * Vector512.Create(s);

    private static readonly Vector512<float> s_nibbles = Vector512.Create(0f, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);

    private static readonly Vector512<int> s_lowIdx = Vector512.Create(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    private static readonly Vector512<int> s_highIdx = Vector512.Create(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);

    /// <summary>
    /// 32 nibbles (low first) at p to two F32 vectors of dequantized values, in element order: interleave
    /// the bytes and the bytes shifted right by 4, then look each up in the group's table (vpermps reads
    /// only the low 4 bits of an index, so the high nibble left in even lanes needs no mask).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Unpack4(byte* p, Vector512<float> table, out Vector512<float> lo, out Vector512<float> hi)
    {
        var b = Avx512F.ConvertToVector512Int32(Vector128.Load(p));
        var high = Vector512.ShiftRightLogical(b, 4);
        lo = Avx512F.PermuteVar16x32(table, Avx512F.PermuteVar16x32x2(b, s_lowIdx, high));
        hi = Avx512F.PermuteVar16x32(table, Avx512F.PermuteVar16x32x2(b, s_highIdx, high));
    }
}
