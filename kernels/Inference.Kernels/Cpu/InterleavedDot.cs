using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Inference.Kernels.Cpu;

/// <summary>
/// Integer dot products of int8-quantized activation rows with <see cref="InterleavedWeight"/> groups (AVX-VNNI
/// vpdpbusd). Per output element: for each 32-block in order, the block's exact integer dot (started from the
/// offset correction), converted to F32 and FMA-added with c = xScale · wScale (int4) or c = xScale (int8) into
/// one F32 accumulator that starts at 0; int8 then multiplies by the row scale. Every kernel here (4 x rows by
/// 16 or 8 outputs, 1 x row by 16 or 8) does exactly that per element, so results do not depend on the batch.
/// </summary>
internal static unsafe class InterleavedDot
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Dp(Vector256<int> acc, Vector256<byte> w, Vector256<sbyte> x) => AvxVnni.MultiplyWideningAndAdd(acc, w, x);

    /// <summary>Activation bytes 4v..4v+3 of a block in every lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<sbyte> Bc(sbyte* q) => Vector256.Create(*(int*)q).AsSByte();

    /// <summary>
    /// One block of eight outputs: the exact integer dot in two chains (steps 0-3 from init, 4-7 from zero; an
    /// integer sum, so the split changes nothing but the dependency length), converted, times c, added to acc.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Acc(Vector256<float> acc, Vector256<int> init, Vector256<float> c,
        Vector256<byte> w0, Vector256<byte> w1, Vector256<byte> w2, Vector256<byte> w3,
        Vector256<byte> w4, Vector256<byte> w5, Vector256<byte> w6, Vector256<byte> w7,
        Vector256<sbyte> x0, Vector256<sbyte> x1, Vector256<sbyte> x2, Vector256<sbyte> x3,
        Vector256<sbyte> x4, Vector256<sbyte> x5, Vector256<sbyte> x6, Vector256<sbyte> x7)
    {
        var lo = Dp(Dp(Dp(Dp(init, w0, x0), w1, x1), w2, x2), w3, x3);
        var hi = Dp(Dp(Dp(Dp(Vector256<int>.Zero, w4, x4), w5, x5), w6, x6), w7, x7);
        return Fma.MultiplyAdd(Avx.ConvertToVector256Single(lo + hi), c, acc);
    }

    /// <summary>Group g's data, scales and zero points.</summary>
    private readonly struct Group<TF> where TF : struct, IPackedFormat
    {
        public readonly byte* Data;
        public readonly float* Scales;
        public readonly byte* Zeros;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Group(InterleavedWeight w, int g)
        {
            TF f = default;
            Data = w.Data + (long)g * w.Blocks * f.BlockBytes;
            Scales = w.Scales + (f.BlockScaled ? (long)g * w.Blocks : g) * InterleavedWeight.GroupRows;
            Zeros = f.HasZeroPoints ? w.ZeroPoints + (long)g * w.Blocks * InterleavedWeight.GroupRows : null;
        }

        /// <summary>c for block b: the x scale times this group's eight block scales (int4), or the x scale (int8).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<float> Coef(Vector256<float> xScale, int b) =>
            default(TF).BlockScaled ? xScale * Vector256.Load(Scales + b * InterleavedWeight.GroupRows) : xScale;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<int> Init(int sum, int b) => default(TF).Init(sum, Zeros + b * InterleavedWeight.GroupRows);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Store(Vector256<float> acc, float* y)
        {
            if (!default(TF).BlockScaled) acc *= Vector256.Load(Scales);
            acc.Store(y);
        }
    }

    /// <summary>One x row against groups g and g + 1: y[0..16).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Row1x16<TF>(InterleavedWeight w, int g, QuantizedRow x, float* y) where TF : struct, IPackedFormat
    {
        TF f = default;
        var g0 = new Group<TF>(w, g);
        var g1 = new Group<TF>(w, g + 1);
        byte* p0 = g0.Data, p1 = g1.Data;
        sbyte* q = x.Q;
        Vector256<float> a0 = default, a1 = default;
        for (int b = 0; b < w.Blocks; b++, q += 32, p0 += f.BlockBytes, p1 += f.BlockBytes)
        {
            var x0 = Bc(q); var x1 = Bc(q + 4); var x2 = Bc(q + 8); var x3 = Bc(q + 12);
            var x4 = Bc(q + 16); var x5 = Bc(q + 20); var x6 = Bc(q + 24); var x7 = Bc(q + 28);
            int sum = x.Sums[b];
            var d = Vector256.Create(x.Scales[b]);
            a0 = Acc(a0, g0.Init(sum, b), g0.Coef(d, b),
                f.Step(p0, 0), f.Step(p0, 1), f.Step(p0, 2), f.Step(p0, 3), f.Step(p0, 4), f.Step(p0, 5), f.Step(p0, 6), f.Step(p0, 7),
                x0, x1, x2, x3, x4, x5, x6, x7);
            a1 = Acc(a1, g1.Init(sum, b), g1.Coef(d, b),
                f.Step(p1, 0), f.Step(p1, 1), f.Step(p1, 2), f.Step(p1, 3), f.Step(p1, 4), f.Step(p1, 5), f.Step(p1, 6), f.Step(p1, 7),
                x0, x1, x2, x3, x4, x5, x6, x7);
        }
        g0.Store(a0, y);
        g1.Store(a1, y + 8);
    }

    /// <summary>One x row against group g: y[0..8).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Row1x8<TF>(InterleavedWeight w, int g, QuantizedRow x, float* y) where TF : struct, IPackedFormat
    {
        TF f = default;
        var g0 = new Group<TF>(w, g);
        byte* p0 = g0.Data;
        sbyte* q = x.Q;
        Vector256<float> a0 = default;
        for (int b = 0; b < w.Blocks; b++, q += 32, p0 += f.BlockBytes)
        {
            a0 = Acc(a0, g0.Init(x.Sums[b], b), g0.Coef(Vector256.Create(x.Scales[b]), b),
                f.Step(p0, 0), f.Step(p0, 1), f.Step(p0, 2), f.Step(p0, 3), f.Step(p0, 4), f.Step(p0, 5), f.Step(p0, 6), f.Step(p0, 7),
                Bc(q), Bc(q + 4), Bc(q + 8), Bc(q + 12), Bc(q + 16), Bc(q + 20), Bc(q + 24), Bc(q + 28));
        }
        g0.Store(a0, y);
    }

    /// <summary>
    /// Four x rows against groups g and g + 1 (prefill): each block's sixteen weight vectors are loaded (and
    /// unpacked) once for the four rows. y[i * ldy + j] = row i, output j (0..16).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Tile4x16<TF>(InterleavedWeight w, int g, QuantizedRow r0, QuantizedRow r1, QuantizedRow r2, QuantizedRow r3,
        float* y, long ldy) where TF : struct, IPackedFormat
    {
        TF f = default;
        var g0 = new Group<TF>(w, g);
        var g1 = new Group<TF>(w, g + 1);
        byte* p0 = g0.Data, p1 = g1.Data;
        Vector256<float> a00 = default, a01 = default, a10 = default, a11 = default, a20 = default, a21 = default, a30 = default, a31 = default;
        for (int b = 0; b < w.Blocks; b++, p0 += f.BlockBytes, p1 += f.BlockBytes)
        {
            var w0 = f.Step(p0, 0); var w1 = f.Step(p0, 1); var w2 = f.Step(p0, 2); var w3 = f.Step(p0, 3);
            var w4 = f.Step(p0, 4); var w5 = f.Step(p0, 5); var w6 = f.Step(p0, 6); var w7 = f.Step(p0, 7);
            var u0 = f.Step(p1, 0); var u1 = f.Step(p1, 1); var u2 = f.Step(p1, 2); var u3 = f.Step(p1, 3);
            var u4 = f.Step(p1, 4); var u5 = f.Step(p1, 5); var u6 = f.Step(p1, 6); var u7 = f.Step(p1, 7);
            TileRow(g0, g1, r0, b, w0, w1, w2, w3, w4, w5, w6, w7, u0, u1, u2, u3, u4, u5, u6, u7, ref a00, ref a01);
            TileRow(g0, g1, r1, b, w0, w1, w2, w3, w4, w5, w6, w7, u0, u1, u2, u3, u4, u5, u6, u7, ref a10, ref a11);
            TileRow(g0, g1, r2, b, w0, w1, w2, w3, w4, w5, w6, w7, u0, u1, u2, u3, u4, u5, u6, u7, ref a20, ref a21);
            TileRow(g0, g1, r3, b, w0, w1, w2, w3, w4, w5, w6, w7, u0, u1, u2, u3, u4, u5, u6, u7, ref a30, ref a31);
        }
        g0.Store(a00, y); g1.Store(a01, y + 8);
        g0.Store(a10, y + ldy); g1.Store(a11, y + ldy + 8);
        g0.Store(a20, y + 2 * ldy); g1.Store(a21, y + 2 * ldy + 8);
        g0.Store(a30, y + 3 * ldy); g1.Store(a31, y + 3 * ldy + 8);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void TileRow<TF>(Group<TF> g0, Group<TF> g1, QuantizedRow x, int b,
        Vector256<byte> w0, Vector256<byte> w1, Vector256<byte> w2, Vector256<byte> w3,
        Vector256<byte> w4, Vector256<byte> w5, Vector256<byte> w6, Vector256<byte> w7,
        Vector256<byte> u0, Vector256<byte> u1, Vector256<byte> u2, Vector256<byte> u3,
        Vector256<byte> u4, Vector256<byte> u5, Vector256<byte> u6, Vector256<byte> u7,
        ref Vector256<float> a0, ref Vector256<float> a1) where TF : struct, IPackedFormat
    {
        sbyte* q = x.Q + b * 32;
        var x0 = Bc(q); var x1 = Bc(q + 4); var x2 = Bc(q + 8); var x3 = Bc(q + 12);
        var x4 = Bc(q + 16); var x5 = Bc(q + 20); var x6 = Bc(q + 24); var x7 = Bc(q + 28);
        int sum = x.Sums[b];
        var d = Vector256.Create(x.Scales[b]);
        a0 = Acc(a0, g0.Init(sum, b), g0.Coef(d, b), w0, w1, w2, w3, w4, w5, w6, w7, x0, x1, x2, x3, x4, x5, x6, x7);
        a1 = Acc(a1, g1.Init(sum, b), g1.Coef(d, b), u0, u1, u2, u3, u4, u5, u6, u7, x0, x1, x2, x3, x4, x5, x6, x7);
    }

    /// <summary>Four x rows against group g: y[i * ldy + j] = row i, output j (0..8).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Tile4x8<TF>(InterleavedWeight w, int g, QuantizedRow r0, QuantizedRow r1, QuantizedRow r2, QuantizedRow r3,
        float* y, long ldy) where TF : struct, IPackedFormat
    {
        TF f = default;
        var g0 = new Group<TF>(w, g);
        byte* p0 = g0.Data;
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
        for (int b = 0; b < w.Blocks; b++, p0 += f.BlockBytes)
        {
            var w0 = f.Step(p0, 0); var w1 = f.Step(p0, 1); var w2 = f.Step(p0, 2); var w3 = f.Step(p0, 3);
            var w4 = f.Step(p0, 4); var w5 = f.Step(p0, 5); var w6 = f.Step(p0, 6); var w7 = f.Step(p0, 7);
            a0 = TileRow(g0, r0, b, a0, w0, w1, w2, w3, w4, w5, w6, w7);
            a1 = TileRow(g0, r1, b, a1, w0, w1, w2, w3, w4, w5, w6, w7);
            a2 = TileRow(g0, r2, b, a2, w0, w1, w2, w3, w4, w5, w6, w7);
            a3 = TileRow(g0, r3, b, a3, w0, w1, w2, w3, w4, w5, w6, w7);
        }
        g0.Store(a0, y);
        g0.Store(a1, y + ldy);
        g0.Store(a2, y + 2 * ldy);
        g0.Store(a3, y + 3 * ldy);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> TileRow<TF>(Group<TF> g0, QuantizedRow x, int b, Vector256<float> a,
        Vector256<byte> w0, Vector256<byte> w1, Vector256<byte> w2, Vector256<byte> w3,
        Vector256<byte> w4, Vector256<byte> w5, Vector256<byte> w6, Vector256<byte> w7) where TF : struct, IPackedFormat
    {
        sbyte* q = x.Q + b * 32;
        return Acc(a, g0.Init(x.Sums[b], b), g0.Coef(Vector256.Create(x.Scales[b]), b), w0, w1, w2, w3, w4, w5, w6, w7,
            Bc(q), Bc(q + 4), Bc(q + 8), Bc(q + 12), Bc(q + 16), Bc(q + 20), Bc(q + 24), Bc(q + 28));
    }
}
