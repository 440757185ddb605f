using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Inference.Kernels.Cpu;

/// <summary>
/// q·k for the keys of one KV block, and the block's online-softmax step. Two implementations, chosen by
/// the shape alone (never by the batch): 16 keys at a time with one accumulator per key and a transposing
/// reduction that leaves key j's sum in lane j (AVX-512, head sizes divisible by 16), or one dot product
/// per key. Either way a key's score is reduced in an order fixed by the head size.
/// </summary>
internal static unsafe class AttentionScores
{
    /// <summary>Whether the 16-key AVX-512 path serves this head size.</summary>
    public static bool Wide(int headDim) => Vector512.IsHardwareAccelerated && Avx512F.IsSupported && headDim % 16 == 0 && headDim > 0;

    /// <summary>Floats of score scratch a block needs: whole 16-lane chunks.</summary>
    public static int ScratchFloats(int blockSize) => (blockSize + 15) & ~15;

    /// <summary>
    /// Scores of keys [0, n) of a block (key j at k + j * stride) into s, scaled, as probabilities relative
    /// to the updated running max: on return s[j] = exp(scale * q·k_j - mNew) for j &lt; n, and the running
    /// max and sum are updated. Returns the factor the accumulator must be rescaled by.
    /// </summary>
    public static float Block(float* q, float* k, int stride, int n, int headDim, float scale, float* s, ref float m, ref float l)
    {
        if (Wide(headDim)) return BlockWide<F32Rows>(q, k, stride, n, headDim, scale, s, ref m, ref l);
        return BlockNarrow(q, k, stride, n, headDim, scale, s, ref m, ref l);
    }

    /// <summary>The 16-key path over keys of any element type <typeparamref name="TK"/> reads as F32 (AVX-512, head size divisible by 16).</summary>
    public static float BlockWide<TK>(float* q, void* k, int stride, int n, int headDim, float scale, float* s, ref float m, ref float l)
        where TK : struct, IKvRows
    {
        int chunks = (n + 15) >> 4;
        var lane = Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        var negInf = Vector512.Create(float.NegativeInfinity);
        var max = negInf;
        for (int c = 0; c < chunks; c++)
        {
            int valid = Math.Min(16, n - 16 * c);
            var sc = Scores16<TK>(q, k, (long)16 * c * stride, stride, valid, headDim) * scale;
            // Lanes past the block's last key hold a repeat of a real key: mask them out of the softmax.
            sc = Vector512.ConditionalSelect(Vector512.LessThan(lane, Vector512.Create(valid)).AsSingle(), sc, negInf);
            sc.Store(s + 16 * c);
            max = Vector512.Max(max, sc);
        }
        float mNew = MathF.Max(m, MaxOf(max));
        float corr = MathF.Exp(m - mNew);
        var sum = Vector512<float>.Zero;
        var mv = Vector512.Create(mNew);
        for (int c = 0; c < chunks; c++)
        {
            var p = Exp(Vector512.Load(s + 16 * c) - mv);
            p.Store(s + 16 * c);
            sum += p;
        }
        l = l * corr + Vector512.Sum(sum);
        m = mNew;
        return corr;
    }

    /// <summary>
    /// Dots of q with 16 keys (key j's elements from index first + j * stride of k; keys at or past
    /// <paramref name="valid"/> repeat the last valid one, so nothing past the block is read). One accumulator per key over the head, then a
    /// 4-level transposing reduction: each level adds lanes in a fixed pattern, so key j's score has a fixed
    /// summation order and ends up in lane j.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static Vector512<float> Scores16<TK>(float* q, void* k, long first, int stride, int valid, int headDim) where TK : struct, IKvRows
    {
        long last = first + (long)(valid - 1) * stride;
        long k0 = first, k1 = Math.Min(first + 1L * stride, last), k2 = Math.Min(first + 2L * stride, last), k3 = Math.Min(first + 3L * stride, last);
        long k4 = Math.Min(first + 4L * stride, last), k5 = Math.Min(first + 5L * stride, last), k6 = Math.Min(first + 6L * stride, last), k7 = Math.Min(first + 7L * stride, last);
        long k8 = Math.Min(first + 8L * stride, last), k9 = Math.Min(first + 9L * stride, last), k10 = Math.Min(first + 10L * stride, last), k11 = Math.Min(first + 11L * stride, last);
        long k12 = Math.Min(first + 12L * stride, last), k13 = Math.Min(first + 13L * stride, last), k14 = Math.Min(first + 14L * stride, last), k15 = Math.Min(first + 15L * stride, last);
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
        Vector512<float> a8 = default, a9 = default, a10 = default, a11 = default, a12 = default, a13 = default, a14 = default, a15 = default;
        for (int d = 0; d < headDim; d += 16)
        {
            var qv = Vector512.Load(q + d);
            a0 = Vector512.FusedMultiplyAdd(qv, TK.Load(k, k0 + d), a0);
            a1 = Vector512.FusedMultiplyAdd(qv, TK.Load(k, k1 + d), a1);
            a2 = Vector512.FusedMultiplyAdd(qv, TK.Load(k, k2 + d), a2);
            a3 = Vector512.FusedMultiplyAdd(qv, TK.Load(k, k3 + d), a3);
            a4 = Vector512.FusedMultiplyAdd(qv, TK.Load(k, k4 + d), a4);
            a5 = Vector512.FusedMultiplyAdd(qv, TK.Load(k, k5 + d), a5);
            a6 = Vector512.FusedMultiplyAdd(qv, TK.Load(k, k6 + d), a6);
            a7 = Vector512.FusedMultiplyAdd(qv, TK.Load(k, k7 + d), a7);
            a8 = Vector512.FusedMultiplyAdd(qv, TK.Load(k, k8 + d), a8);
            a9 = Vector512.FusedMultiplyAdd(qv, TK.Load(k, k9 + d), a9);
            a10 = Vector512.FusedMultiplyAdd(qv, TK.Load(k, k10 + d), a10);
            a11 = Vector512.FusedMultiplyAdd(qv, TK.Load(k, k11 + d), a11);
            a12 = Vector512.FusedMultiplyAdd(qv, TK.Load(k, k12 + d), a12);
            a13 = Vector512.FusedMultiplyAdd(qv, TK.Load(k, k13 + d), a13);
            a14 = Vector512.FusedMultiplyAdd(qv, TK.Load(k, k14 + d), a14);
            a15 = Vector512.FusedMultiplyAdd(qv, TK.Load(k, k15 + d), a15);
        }
        var v0 = Reduce4(a0, a1, a2, a3);
        var v1 = Reduce4(a4, a5, a6, a7);
        var v2 = Reduce4(a8, a9, a10, a11);
        var v3 = Reduce4(a12, a13, a14, a15);
        // v_g's 128-bit lane L holds keys 4g..4g+3 summed over elements 4L..4L+3 of every 16; fold the lanes.
        var w0 = Avx512F.Shuffle4x128(v0, v1, 0b10_00_10_00) + Avx512F.Shuffle4x128(v0, v1, 0b11_01_11_01);
        var w1 = Avx512F.Shuffle4x128(v2, v3, 0b10_00_10_00) + Avx512F.Shuffle4x128(v2, v3, 0b11_01_11_01);
        return Avx512F.Shuffle4x128(w0, w1, 0b10_00_10_00) + Avx512F.Shuffle4x128(w0, w1, 0b11_01_11_01);
    }

    /// <summary>Per 128-bit lane: [sum4(a), sum4(b), sum4(c), sum4(d)] of that lane's four elements.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Reduce4(Vector512<float> a, Vector512<float> b, Vector512<float> c, Vector512<float> d)
    {
        var ab = Avx512F.UnpackLow(a, b) + Avx512F.UnpackHigh(a, b);
        var cd = Avx512F.UnpackLow(c, d) + Avx512F.UnpackHigh(c, d);
        return Avx512F.Shuffle(ab, cd, 0b01_00_01_00) + Avx512F.Shuffle(ab, cd, 0b11_10_11_10);
    }

    /// <summary>
    /// e^x per lane (x &lt;= 0 here): 2^(x log2 e) split into 2^round and a degree-6 polynomial on
    /// [-0.5, 0.5] (relative error ~2e-7); lanes below -87.3 (incl. -inf) give 0. Lane-wise, so a
    /// key's probability does not depend on its neighbours.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Exp(Vector512<float> x)
    {
        var t = x * Vector512.Create(1.44269504088896341f);
        var r = Vector512.Round(t);
        var f = t - r; // [-0.5, 0.5]
        var p = Vector512.Create(1.5353362e-4f);
        p = Vector512.FusedMultiplyAdd(p, f, Vector512.Create(1.3398874e-3f));
        p = Vector512.FusedMultiplyAdd(p, f, Vector512.Create(9.6180325e-3f));
        p = Vector512.FusedMultiplyAdd(p, f, Vector512.Create(5.5503365e-2f));
        p = Vector512.FusedMultiplyAdd(p, f, Vector512.Create(2.4022649e-1f));
        p = Vector512.FusedMultiplyAdd(p, f, Vector512.Create(6.9314718e-1f));
        p = Vector512.FusedMultiplyAdd(p, f, Vector512<float>.One);
        var ri = Vector512.ConvertToInt32(Vector512.Max(r, Vector512.Create(-126f)));
        var pow = Vector512.ShiftLeft(ri + Vector512.Create(127), 23).AsSingle();
        return Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512.Create(-87.3f)), Vector512<float>.Zero, p * pow);
    }

    internal static float MaxOf(Vector512<float> v)
    {
        var h = Vector256.Max(v.GetLower(), v.GetUpper());
        var q = Vector128.Max(h.GetLower(), h.GetUpper());
        float a = MathF.Max(q.GetElement(0), q.GetElement(1));
        float b = MathF.Max(q.GetElement(2), q.GetElement(3));
        return MathF.Max(a, b);
    }

    /// <summary>One dot product per key; the softmax through TensorPrimitives (any vector width).</summary>
    private static float BlockNarrow(float* q, float* k, int stride, int n, int headDim, float scale, float* s, ref float m, ref float l)
    {
        int j = 0;
        // Four keys per pass share the q loads; each score is reduced exactly as a lone Dot would.
        for (; j + 4 <= n; j += 4)
        {
            float* k0 = k + (long)j * stride;
            SimdDot.Dot4(q, k0, k0 + stride, k0 + 2 * stride, k0 + 3 * stride, headDim, s + j);
        }
        for (; j < n; j++) s[j] = SimdDot.Dot(q, k + (long)j * stride, headDim);
        var sc = new Span<float>(s, n);
        TensorPrimitives.Multiply(sc, scale, sc);
        float mNew = MathF.Max(m, TensorPrimitives.Max(sc));
        float corr = MathF.Exp(m - mNew);
        TensorPrimitives.Subtract(sc, mNew, sc);
        TensorPrimitives.Exp(sc, sc);
        float sum = l * corr;
        for (j = 0; j < n; j++) sum += s[j];
        l = sum;
        m = mNew;
        return corr;
    }
}
