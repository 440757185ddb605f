using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Inference.Kernels.Cpu;

/// <summary>
/// Integer dot products of int8-quantized activation rows with int8 / int4 weight rows (AVX-VNNI vpdpbusd,
/// unsigned weight bytes times signed activations). Per output element and block: an exact int32 per lane
/// (eight lanes of four products, started from the offset correction), converted to F32 and FMA-added with
/// the block's scale into an eight-lane F32 accumulator, blocks in order; then one fixed horizontal sum
/// (<see cref="Sum"/>) and, for int8, the row scale. Every kernel here (and <see cref="IntDotScalar"/>)
/// does exactly that per element, so tiles of 4x4, 1x4 or 1x1 give bit-identical results.
/// </summary>
internal static unsafe class IntDotKernel
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Step(Vector256<float> acc, Vector256<int> init, Vector256<byte> u, sbyte* xq, Vector256<float> c) =>
        Fma.MultiplyAdd(Avx.ConvertToVector256Single(AvxVnni.MultiplyWideningAndAdd(init, u, Vector256.Load(xq))), c, acc);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Coef<TW>(TW w, long meta, int g) where TW : struct, IIntWeights =>
        w.BlockScaled ? Vector256.Create(w.Scale(meta, g)) : default;

    /// <summary>(a0 + a4) + (a2 + a6), plus (a1 + a5) + (a3 + a7).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(Vector256<float> acc)
    {
        var h = acc.GetLower() + acc.GetUpper();
        var g = h + Sse.MoveHighToLow(h, h);
        return g.ToScalar() + g.GetElement(1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Finish<TW>(TW w, Vector256<float> acc, long meta) where TW : struct, IIntWeights =>
        w.BlockScaled ? Sum(acc) : Sum(acc) * w.Scale(meta, 0);

    /// <summary>Four x rows against weight rows o..o+3; y[i * ldy + j] = row i, output o + j.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Tile4x4<TW>(TW w, QuantizedRow x0, QuantizedRow x1, QuantizedRow x2, QuantizedRow x3,
        long o, int blocks, float* y, long ldy) where TW : struct, IIntWeights
    {
        byte* p0 = w.Row(o), p1 = w.Row(o + 1), p2 = w.Row(o + 2), p3 = w.Row(o + 3);
        long m0 = w.Meta(o), m1 = w.Meta(o + 1), m2 = w.Meta(o + 2), m3 = w.Meta(o + 3);
        Vector256<float> a00 = default, a01 = default, a02 = default, a03 = default, a10 = default, a11 = default, a12 = default, a13 = default, a20 = default, a21 = default, a22 = default, a23 = default, a30 = default, a31 = default, a32 = default, a33 = default;
        for (int b = 0; b < blocks; b++)
        {
            int q = b * 32, g = w.Group(b);
            var c0 = Vector256.Load(x0.Corrections + b * 8);
            var c1 = Vector256.Load(x1.Corrections + b * 8);
            var c2 = Vector256.Load(x2.Corrections + b * 8);
            var c3 = Vector256.Load(x3.Corrections + b * 8);
            var d0 = Vector256.Create(x0.Scales[b]);
            var d1 = Vector256.Create(x1.Scales[b]);
            var d2 = Vector256.Create(x2.Scales[b]);
            var d3 = Vector256.Create(x3.Scales[b]);
            Vector256<byte> u;
            Vector256<float> s;
            u = w.Load(p0, b);
            s = Coef(w, m0, g);
            a00 = Step(a00, w.Correction(c0, m0, g), u, x0.Q + q, w.BlockScaled ? d0 * s : d0);
            a10 = Step(a10, w.Correction(c1, m0, g), u, x1.Q + q, w.BlockScaled ? d1 * s : d1);
            a20 = Step(a20, w.Correction(c2, m0, g), u, x2.Q + q, w.BlockScaled ? d2 * s : d2);
            a30 = Step(a30, w.Correction(c3, m0, g), u, x3.Q + q, w.BlockScaled ? d3 * s : d3);
            u = w.Load(p1, b);
            s = Coef(w, m1, g);
            a01 = Step(a01, w.Correction(c0, m1, g), u, x0.Q + q, w.BlockScaled ? d0 * s : d0);
            a11 = Step(a11, w.Correction(c1, m1, g), u, x1.Q + q, w.BlockScaled ? d1 * s : d1);
            a21 = Step(a21, w.Correction(c2, m1, g), u, x2.Q + q, w.BlockScaled ? d2 * s : d2);
            a31 = Step(a31, w.Correction(c3, m1, g), u, x3.Q + q, w.BlockScaled ? d3 * s : d3);
            u = w.Load(p2, b);
            s = Coef(w, m2, g);
            a02 = Step(a02, w.Correction(c0, m2, g), u, x0.Q + q, w.BlockScaled ? d0 * s : d0);
            a12 = Step(a12, w.Correction(c1, m2, g), u, x1.Q + q, w.BlockScaled ? d1 * s : d1);
            a22 = Step(a22, w.Correction(c2, m2, g), u, x2.Q + q, w.BlockScaled ? d2 * s : d2);
            a32 = Step(a32, w.Correction(c3, m2, g), u, x3.Q + q, w.BlockScaled ? d3 * s : d3);
            u = w.Load(p3, b);
            s = Coef(w, m3, g);
            a03 = Step(a03, w.Correction(c0, m3, g), u, x0.Q + q, w.BlockScaled ? d0 * s : d0);
            a13 = Step(a13, w.Correction(c1, m3, g), u, x1.Q + q, w.BlockScaled ? d1 * s : d1);
            a23 = Step(a23, w.Correction(c2, m3, g), u, x2.Q + q, w.BlockScaled ? d2 * s : d2);
            a33 = Step(a33, w.Correction(c3, m3, g), u, x3.Q + q, w.BlockScaled ? d3 * s : d3);
        }
        y[0 * ldy + 0] = Finish(w, a00, m0);
        y[0 * ldy + 1] = Finish(w, a01, m1);
        y[0 * ldy + 2] = Finish(w, a02, m2);
        y[0 * ldy + 3] = Finish(w, a03, m3);
        y[1 * ldy + 0] = Finish(w, a10, m0);
        y[1 * ldy + 1] = Finish(w, a11, m1);
        y[1 * ldy + 2] = Finish(w, a12, m2);
        y[1 * ldy + 3] = Finish(w, a13, m3);
        y[2 * ldy + 0] = Finish(w, a20, m0);
        y[2 * ldy + 1] = Finish(w, a21, m1);
        y[2 * ldy + 2] = Finish(w, a22, m2);
        y[2 * ldy + 3] = Finish(w, a23, m3);
        y[3 * ldy + 0] = Finish(w, a30, m0);
        y[3 * ldy + 1] = Finish(w, a31, m1);
        y[3 * ldy + 2] = Finish(w, a32, m2);
        y[3 * ldy + 3] = Finish(w, a33, m3);
    }

    /// <summary>
    /// <see cref="Tile4x4"/> with two outputs' eight-lane accumulators side by side in one 512-bit register:
    /// half the convert / multiply / FMA instructions and registers, the same per-lane operations (so the
    /// same bits). Scale rows are hoisted as in <see cref="Row1x4"/>. Needs AVX-512F.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Tile4x4Wide<TW>(TW w, QuantizedRow x0, QuantizedRow x1, QuantizedRow x2, QuantizedRow x3,
        long o, int blocks, float* y, long ldy) where TW : struct, IIntWeights
    {
        byte* p0 = w.Row(o), p1 = w.Row(o + 1), p2 = w.Row(o + 2), p3 = w.Row(o + 3);
        long m0 = w.Meta(o), m1 = w.Meta(o + 1), m2 = w.Meta(o + 2), m3 = w.Meta(o + 3);
        float* s0 = w.ScaleRow(m0), s1 = w.ScaleRow(m1), s2 = w.ScaleRow(m2), s3 = w.ScaleRow(m3);
        Vector512<float> a0_01 = default, a0_23 = default, a1_01 = default, a1_23 = default, a2_01 = default, a2_23 = default, a3_01 = default, a3_23 = default;
        for (int b = 0; b < blocks; b++)
        {
            int q = b * 32, g = w.Group(b);
            Vector512<float> s01 = default, s23 = default;
            if (w.BlockScaled)
            {
                s01 = Vector256.Create(s0[g]).ToVector512Unsafe().WithUpper(Vector256.Create(s1[g]));
                s23 = Vector256.Create(s2[g]).ToVector512Unsafe().WithUpper(Vector256.Create(s3[g]));
            }
            var u0 = w.Load(p0, b);
            var u1 = w.Load(p1, b);
            var u2 = w.Load(p2, b);
            var u3 = w.Load(p3, b);
            var d0 = Vector512.Create(x0.Scales[b]);
            var xq0 = Vector256.Load(x0.Q + q);
            var c0 = Vector256.Load(x0.Corrections + b * 8);
            a0_01 = Pair(a0_01, Dot(w.Correction(c0, m0, g), u0, xq0), Dot(w.Correction(c0, m1, g), u1, xq0), w.BlockScaled ? d0 * s01 : d0);
            a0_23 = Pair(a0_23, Dot(w.Correction(c0, m2, g), u2, xq0), Dot(w.Correction(c0, m3, g), u3, xq0), w.BlockScaled ? d0 * s23 : d0);
            var d1 = Vector512.Create(x1.Scales[b]);
            var xq1 = Vector256.Load(x1.Q + q);
            var c1 = Vector256.Load(x1.Corrections + b * 8);
            a1_01 = Pair(a1_01, Dot(w.Correction(c1, m0, g), u0, xq1), Dot(w.Correction(c1, m1, g), u1, xq1), w.BlockScaled ? d1 * s01 : d1);
            a1_23 = Pair(a1_23, Dot(w.Correction(c1, m2, g), u2, xq1), Dot(w.Correction(c1, m3, g), u3, xq1), w.BlockScaled ? d1 * s23 : d1);
            var d2 = Vector512.Create(x2.Scales[b]);
            var xq2 = Vector256.Load(x2.Q + q);
            var c2 = Vector256.Load(x2.Corrections + b * 8);
            a2_01 = Pair(a2_01, Dot(w.Correction(c2, m0, g), u0, xq2), Dot(w.Correction(c2, m1, g), u1, xq2), w.BlockScaled ? d2 * s01 : d2);
            a2_23 = Pair(a2_23, Dot(w.Correction(c2, m2, g), u2, xq2), Dot(w.Correction(c2, m3, g), u3, xq2), w.BlockScaled ? d2 * s23 : d2);
            var d3 = Vector512.Create(x3.Scales[b]);
            var xq3 = Vector256.Load(x3.Q + q);
            var c3 = Vector256.Load(x3.Corrections + b * 8);
            a3_01 = Pair(a3_01, Dot(w.Correction(c3, m0, g), u0, xq3), Dot(w.Correction(c3, m1, g), u1, xq3), w.BlockScaled ? d3 * s01 : d3);
            a3_23 = Pair(a3_23, Dot(w.Correction(c3, m2, g), u2, xq3), Dot(w.Correction(c3, m3, g), u3, xq3), w.BlockScaled ? d3 * s23 : d3);
        }
        y[0 * ldy + 0] = Finish(w, a0_01.GetLower(), m0);
        y[0 * ldy + 1] = Finish(w, a0_01.GetUpper(), m1);
        y[0 * ldy + 2] = Finish(w, a0_23.GetLower(), m2);
        y[0 * ldy + 3] = Finish(w, a0_23.GetUpper(), m3);
        y[1 * ldy + 0] = Finish(w, a1_01.GetLower(), m0);
        y[1 * ldy + 1] = Finish(w, a1_01.GetUpper(), m1);
        y[1 * ldy + 2] = Finish(w, a1_23.GetLower(), m2);
        y[1 * ldy + 3] = Finish(w, a1_23.GetUpper(), m3);
        y[2 * ldy + 0] = Finish(w, a2_01.GetLower(), m0);
        y[2 * ldy + 1] = Finish(w, a2_01.GetUpper(), m1);
        y[2 * ldy + 2] = Finish(w, a2_23.GetLower(), m2);
        y[2 * ldy + 3] = Finish(w, a2_23.GetUpper(), m3);
        y[3 * ldy + 0] = Finish(w, a3_01.GetLower(), m0);
        y[3 * ldy + 1] = Finish(w, a3_01.GetUpper(), m1);
        y[3 * ldy + 2] = Finish(w, a3_23.GetLower(), m2);
        y[3 * ldy + 3] = Finish(w, a3_23.GetUpper(), m3);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Dot(Vector256<int> init, Vector256<byte> u, Vector256<sbyte> xq) => AvxVnni.MultiplyWideningAndAdd(init, u, xq);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Pair(Vector512<float> acc, Vector256<int> lo, Vector256<int> hi, Vector512<float> c) =>
        Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(lo.ToVector512Unsafe().WithUpper(hi)), c, acc);

    /// <summary>
    /// One x row against weight rows o..o+3 (the decode kernel: each weight block is used once). Row, scale
    /// and activation addresses are hoisted and walked by pointer (computed per block through the weight
    /// struct, they did not fit the registers and were reloaded from the stack every block), and two blocks
    /// go per iteration, their weight loads first: ~7% faster per step, measured in-process against the
    /// one-block loop. Each accumulator still takes its blocks in order, so the values are unchanged.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Row1x4<TW>(TW w, QuantizedRow x, long o, int blocks, float* y) where TW : struct, IIntWeights
    {
        byte* p0 = w.Row(o), p1 = w.Row(o + 1), p2 = w.Row(o + 2), p3 = w.Row(o + 3);
        long m0 = w.Meta(o), m1 = w.Meta(o + 1), m2 = w.Meta(o + 2), m3 = w.Meta(o + 3);
        float* s0 = w.ScaleRow(m0), s1 = w.ScaleRow(m1), s2 = w.ScaleRow(m2), s3 = w.ScaleRow(m3);
        sbyte* xq = x.Q;
        int* xc = x.Corrections;
        float* xd = x.Scales;
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
        int b = 0;
        for (; b + 2 <= blocks; b += 2, xq += 64, xc += 16)
        {
            int g = w.Group(b), h = w.Group(b + 1);
            var c = Vector256.Load(xc);
            var e = Vector256.Load(xc + 8);
            var d = Vector256.Create(xd[b]);
            var f = Vector256.Create(xd[b + 1]);
            var u0 = w.Load(p0, b);
            var u1 = w.Load(p1, b);
            var u2 = w.Load(p2, b);
            var u3 = w.Load(p3, b);
            var v0 = w.Load(p0, b + 1);
            var v1 = w.Load(p1, b + 1);
            var v2 = w.Load(p2, b + 1);
            var v3 = w.Load(p3, b + 1);
            a0 = Step(a0, w.Correction(c, m0, g), u0, xq, w.BlockScaled ? d * Vector256.Create(s0[g]) : d);
            a1 = Step(a1, w.Correction(c, m1, g), u1, xq, w.BlockScaled ? d * Vector256.Create(s1[g]) : d);
            a2 = Step(a2, w.Correction(c, m2, g), u2, xq, w.BlockScaled ? d * Vector256.Create(s2[g]) : d);
            a3 = Step(a3, w.Correction(c, m3, g), u3, xq, w.BlockScaled ? d * Vector256.Create(s3[g]) : d);
            a0 = Step(a0, w.Correction(e, m0, h), v0, xq + 32, w.BlockScaled ? f * Vector256.Create(s0[h]) : f);
            a1 = Step(a1, w.Correction(e, m1, h), v1, xq + 32, w.BlockScaled ? f * Vector256.Create(s1[h]) : f);
            a2 = Step(a2, w.Correction(e, m2, h), v2, xq + 32, w.BlockScaled ? f * Vector256.Create(s2[h]) : f);
            a3 = Step(a3, w.Correction(e, m3, h), v3, xq + 32, w.BlockScaled ? f * Vector256.Create(s3[h]) : f);
        }
        for (; b < blocks; b++, xq += 32, xc += 8)
        {
            int g = w.Group(b);
            var c = Vector256.Load(xc);
            var d = Vector256.Create(xd[b]);
            a0 = Step(a0, w.Correction(c, m0, g), w.Load(p0, b), xq, w.BlockScaled ? d * Vector256.Create(s0[g]) : d);
            a1 = Step(a1, w.Correction(c, m1, g), w.Load(p1, b), xq, w.BlockScaled ? d * Vector256.Create(s1[g]) : d);
            a2 = Step(a2, w.Correction(c, m2, g), w.Load(p2, b), xq, w.BlockScaled ? d * Vector256.Create(s2[g]) : d);
            a3 = Step(a3, w.Correction(c, m3, g), w.Load(p3, b), xq, w.BlockScaled ? d * Vector256.Create(s3[g]) : d);
        }
        y[0] = Finish(w, a0, m0);
        y[1] = Finish(w, a1, m1);
        y[2] = Finish(w, a2, m2);
        y[3] = Finish(w, a3, m3);
    }

    /// <summary>One x row against one weight row (band remainders).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Dot1x1<TW>(TW w, QuantizedRow x, long o, int blocks) where TW : struct, IIntWeights
    {
        byte* p = w.Row(o);
        long m = w.Meta(o);
        Vector256<float> a = default;
        for (int b = 0; b < blocks; b++)
        {
            int g = w.Group(b);
            var d = Vector256.Create(x.Scales[b]);
            a = Step(a, w.Correction(Vector256.Load(x.Corrections + b * 8), m, g), w.Load(p, b), x.Q + b * 32,
                w.BlockScaled ? d * Coef(w, m, g) : d);
        }
        return Finish(w, a, m);
    }
}
