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
    private static Vector256<float> Coef<TW>(in TW w, long row, int b) where TW : struct, IIntWeights =>
        w.BlockScaled ? Vector256.Create(w.Scale(row, b)) : default;

    /// <summary>(a0 + a4) + (a2 + a6), plus (a1 + a5) + (a3 + a7).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(Vector256<float> acc)
    {
        var h = acc.GetLower() + acc.GetUpper();
        var g = h + Sse.MoveHighToLow(h, h);
        return g.ToScalar() + g.GetElement(1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Finish<TW>(in TW w, Vector256<float> acc, long row) where TW : struct, IIntWeights =>
        w.BlockScaled ? Sum(acc) : Sum(acc) * w.Scale(row, 0);

    /// <summary>Four x rows against weight rows o..o+3; y[i * ldy + j] = row i, output o + j.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Tile4x4<TW>(in TW w, QuantizedRow x0, QuantizedRow x1, QuantizedRow x2, QuantizedRow x3,
        long o, int blocks, float* y, long ldy) where TW : struct, IIntWeights
    {
        Vector256<float> a00 = default, a01 = default, a02 = default, a03 = default, a10 = default, a11 = default, a12 = default, a13 = default, a20 = default, a21 = default, a22 = default, a23 = default, a30 = default, a31 = default, a32 = default, a33 = default;
        for (int b = 0; b < blocks; b++)
        {
            int q = b * 32;
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
            u = w.Load(o + 0, b);
            s = Coef(w, o + 0, b);
            a00 = Step(a00, w.Correction(c0, o + 0, b), u, x0.Q + q, w.BlockScaled ? d0 * s : d0);
            a10 = Step(a10, w.Correction(c1, o + 0, b), u, x1.Q + q, w.BlockScaled ? d1 * s : d1);
            a20 = Step(a20, w.Correction(c2, o + 0, b), u, x2.Q + q, w.BlockScaled ? d2 * s : d2);
            a30 = Step(a30, w.Correction(c3, o + 0, b), u, x3.Q + q, w.BlockScaled ? d3 * s : d3);
            u = w.Load(o + 1, b);
            s = Coef(w, o + 1, b);
            a01 = Step(a01, w.Correction(c0, o + 1, b), u, x0.Q + q, w.BlockScaled ? d0 * s : d0);
            a11 = Step(a11, w.Correction(c1, o + 1, b), u, x1.Q + q, w.BlockScaled ? d1 * s : d1);
            a21 = Step(a21, w.Correction(c2, o + 1, b), u, x2.Q + q, w.BlockScaled ? d2 * s : d2);
            a31 = Step(a31, w.Correction(c3, o + 1, b), u, x3.Q + q, w.BlockScaled ? d3 * s : d3);
            u = w.Load(o + 2, b);
            s = Coef(w, o + 2, b);
            a02 = Step(a02, w.Correction(c0, o + 2, b), u, x0.Q + q, w.BlockScaled ? d0 * s : d0);
            a12 = Step(a12, w.Correction(c1, o + 2, b), u, x1.Q + q, w.BlockScaled ? d1 * s : d1);
            a22 = Step(a22, w.Correction(c2, o + 2, b), u, x2.Q + q, w.BlockScaled ? d2 * s : d2);
            a32 = Step(a32, w.Correction(c3, o + 2, b), u, x3.Q + q, w.BlockScaled ? d3 * s : d3);
            u = w.Load(o + 3, b);
            s = Coef(w, o + 3, b);
            a03 = Step(a03, w.Correction(c0, o + 3, b), u, x0.Q + q, w.BlockScaled ? d0 * s : d0);
            a13 = Step(a13, w.Correction(c1, o + 3, b), u, x1.Q + q, w.BlockScaled ? d1 * s : d1);
            a23 = Step(a23, w.Correction(c2, o + 3, b), u, x2.Q + q, w.BlockScaled ? d2 * s : d2);
            a33 = Step(a33, w.Correction(c3, o + 3, b), u, x3.Q + q, w.BlockScaled ? d3 * s : d3);
        }
        y[0 * ldy + 0] = Finish(w, a00, o + 0);
        y[0 * ldy + 1] = Finish(w, a01, o + 1);
        y[0 * ldy + 2] = Finish(w, a02, o + 2);
        y[0 * ldy + 3] = Finish(w, a03, o + 3);
        y[1 * ldy + 0] = Finish(w, a10, o + 0);
        y[1 * ldy + 1] = Finish(w, a11, o + 1);
        y[1 * ldy + 2] = Finish(w, a12, o + 2);
        y[1 * ldy + 3] = Finish(w, a13, o + 3);
        y[2 * ldy + 0] = Finish(w, a20, o + 0);
        y[2 * ldy + 1] = Finish(w, a21, o + 1);
        y[2 * ldy + 2] = Finish(w, a22, o + 2);
        y[2 * ldy + 3] = Finish(w, a23, o + 3);
        y[3 * ldy + 0] = Finish(w, a30, o + 0);
        y[3 * ldy + 1] = Finish(w, a31, o + 1);
        y[3 * ldy + 2] = Finish(w, a32, o + 2);
        y[3 * ldy + 3] = Finish(w, a33, o + 3);
    }

    /// <summary>One x row against weight rows o..o+3 (the decode kernel: each weight block is used once).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Row1x4<TW>(in TW w, QuantizedRow x, long o, int blocks, float* y) where TW : struct, IIntWeights
    {
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
        for (int b = 0; b < blocks; b++)
        {
            sbyte* xq = x.Q + b * 32;
            var c = Vector256.Load(x.Corrections + b * 8);
            var d = Vector256.Create(x.Scales[b]);
            a0 = Step(a0, w.Correction(c, o, b), w.Load(o, b), xq, w.BlockScaled ? d * Coef(w, o, b) : d);
            a1 = Step(a1, w.Correction(c, o + 1, b), w.Load(o + 1, b), xq, w.BlockScaled ? d * Coef(w, o + 1, b) : d);
            a2 = Step(a2, w.Correction(c, o + 2, b), w.Load(o + 2, b), xq, w.BlockScaled ? d * Coef(w, o + 2, b) : d);
            a3 = Step(a3, w.Correction(c, o + 3, b), w.Load(o + 3, b), xq, w.BlockScaled ? d * Coef(w, o + 3, b) : d);
        }
        y[0] = Finish(w, a0, o);
        y[1] = Finish(w, a1, o + 1);
        y[2] = Finish(w, a2, o + 2);
        y[3] = Finish(w, a3, o + 3);
    }

    /// <summary>One x row against one weight row (band remainders).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Dot1x1<TW>(in TW w, QuantizedRow x, long o, int blocks) where TW : struct, IIntWeights
    {
        Vector256<float> a = default;
        for (int b = 0; b < blocks; b++)
        {
            var d = Vector256.Create(x.Scales[b]);
            a = Step(a, w.Correction(Vector256.Load(x.Corrections + b * 8), o, b), w.Load(o, b), x.Q + b * 32,
                w.BlockScaled ? d * Coef(w, o, b) : d);
        }
        return Finish(w, a, o);
    }
}
