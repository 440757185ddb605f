using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Inference.Kernels.Cpu;

/// <summary>
/// Integer dot products of int8-quantized activation rows with <see cref="InterleavedWeight"/> units of sixteen
/// rows (AVX-VNNI vpdpbusd). Per output element: for each 32-block in order, the block's exact integer dot
/// (started from the offset correction), converted to F32 and FMA-added with c = xScale · wScale (int4) or
/// c = xScale (int8) into one F32 accumulator that starts at 0; int8 then multiplies by the row scale. Both
/// kernels here (4 x rows by 16 outputs, 1 x row by 16) do exactly that per element, so results do not depend
/// on the batch.
/// </summary>
internal static unsafe class InterleavedDot
{
    private const int Half = InterleavedWeight.HalfRows;

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

    /// <summary>Unit u's data, scales and zero points.</summary>
    private readonly struct Unit<TF> where TF : struct, IPackedFormat
    {
        public readonly byte* Data;
        public readonly float* Scales;
        public readonly byte* Zeros;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Unit(InterleavedWeight w, int u)
        {
            TF f = default;
            Data = w.Data + (long)u * w.Blocks * 2 * f.HalfBytes;
            Scales = w.Scales + (f.BlockScaled ? (long)u * w.Blocks : u) * InterleavedWeight.UnitRows;
            Zeros = f.HasZeroPoints ? w.ZeroPoints + (long)u * w.Blocks * InterleavedWeight.UnitRows : null;
        }

        /// <summary>c for block b and a half: the x scale times that half's eight block scales (int4), or the x scale (int8).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<float> Coef(Vector256<float> xScale, int b, int half) =>
            default(TF).BlockScaled ? xScale * Vector256.Load(Scales + b * InterleavedWeight.UnitRows + half * Half) : xScale;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<int> Init(int sum, int b, int half) => default(TF).Init(sum, Zeros + b * InterleavedWeight.UnitRows + half * Half);

        /// <summary>Writes a half's eight outputs (times the row scales for int8).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Store(Vector256<float> acc, int half, float* y)
        {
            if (!default(TF).BlockScaled) acc *= Vector256.Load(Scales + half * Half);
            acc.Store(y);
        }
    }

    /// <summary>One x row against unit u: y[0..16).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Row<TF>(InterleavedWeight w, int u, QuantizedRow x, float* y) where TF : struct, IPackedFormat
    {
        TF f = default;
        var unit = new Unit<TF>(w, u);
        byte* p0 = unit.Data, p1 = p0 + f.HalfBytes;
        sbyte* q = x.Q;
        Vector256<float> a0 = default, a1 = default;
        for (int b = 0; b < w.Blocks; b++, q += 32, p0 += 2 * f.HalfBytes, p1 += 2 * f.HalfBytes)
        {
            var x0 = Bc(q); var x1 = Bc(q + 4); var x2 = Bc(q + 8); var x3 = Bc(q + 12);
            var x4 = Bc(q + 16); var x5 = Bc(q + 20); var x6 = Bc(q + 24); var x7 = Bc(q + 28);
            int sum = x.Sums[b];
            var d = Vector256.Create(x.Scales[b]);
            a0 = Acc(a0, unit.Init(sum, b, 0), unit.Coef(d, b, 0),
                f.Step(p0, 0), f.Step(p0, 1), f.Step(p0, 2), f.Step(p0, 3), f.Step(p0, 4), f.Step(p0, 5), f.Step(p0, 6), f.Step(p0, 7),
                x0, x1, x2, x3, x4, x5, x6, x7);
            a1 = Acc(a1, unit.Init(sum, b, 1), unit.Coef(d, b, 1),
                f.Step(p1, 0), f.Step(p1, 1), f.Step(p1, 2), f.Step(p1, 3), f.Step(p1, 4), f.Step(p1, 5), f.Step(p1, 6), f.Step(p1, 7),
                x0, x1, x2, x3, x4, x5, x6, x7);
        }
        unit.Store(a0, 0, y);
        unit.Store(a1, 1, y + Half);
    }

    /// <summary>
    /// Four x rows against unit u (prefill): each block's sixteen weight vectors are loaded (and unpacked) once
    /// for the four rows. y[i * ldy + j] = row i, output j (0..16).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Tile<TF>(InterleavedWeight w, int u, QuantizedRow r0, QuantizedRow r1, QuantizedRow r2, QuantizedRow r3,
        float* y, long ldy) where TF : struct, IPackedFormat
    {
        TF f = default;
        var unit = new Unit<TF>(w, u);
        byte* p0 = unit.Data, p1 = p0 + f.HalfBytes;
        Vector256<float> a00 = default, a01 = default, a10 = default, a11 = default, a20 = default, a21 = default, a30 = default, a31 = default;
        for (int b = 0; b < w.Blocks; b++, p0 += 2 * f.HalfBytes, p1 += 2 * f.HalfBytes)
        {
            var w0 = f.Step(p0, 0); var w1 = f.Step(p0, 1); var w2 = f.Step(p0, 2); var w3 = f.Step(p0, 3);
            var w4 = f.Step(p0, 4); var w5 = f.Step(p0, 5); var w6 = f.Step(p0, 6); var w7 = f.Step(p0, 7);
            var u0 = f.Step(p1, 0); var u1 = f.Step(p1, 1); var u2 = f.Step(p1, 2); var u3 = f.Step(p1, 3);
            var u4 = f.Step(p1, 4); var u5 = f.Step(p1, 5); var u6 = f.Step(p1, 6); var u7 = f.Step(p1, 7);
            TileRow(unit, r0, b, w0, w1, w2, w3, w4, w5, w6, w7, u0, u1, u2, u3, u4, u5, u6, u7, ref a00, ref a01);
            TileRow(unit, r1, b, w0, w1, w2, w3, w4, w5, w6, w7, u0, u1, u2, u3, u4, u5, u6, u7, ref a10, ref a11);
            TileRow(unit, r2, b, w0, w1, w2, w3, w4, w5, w6, w7, u0, u1, u2, u3, u4, u5, u6, u7, ref a20, ref a21);
            TileRow(unit, r3, b, w0, w1, w2, w3, w4, w5, w6, w7, u0, u1, u2, u3, u4, u5, u6, u7, ref a30, ref a31);
        }
        unit.Store(a00, 0, y); unit.Store(a01, 1, y + Half);
        unit.Store(a10, 0, y + ldy); unit.Store(a11, 1, y + ldy + Half);
        unit.Store(a20, 0, y + 2 * ldy); unit.Store(a21, 1, y + 2 * ldy + Half);
        unit.Store(a30, 0, y + 3 * ldy); unit.Store(a31, 1, y + 3 * ldy + Half);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void TileRow<TF>(Unit<TF> unit, QuantizedRow x, int b,
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
        a0 = Acc(a0, unit.Init(sum, b, 0), unit.Coef(d, b, 0), w0, w1, w2, w3, w4, w5, w6, w7, x0, x1, x2, x3, x4, x5, x6, x7);
        a1 = Acc(a1, unit.Init(sum, b, 1), unit.Coef(d, b, 1), u0, u1, u2, u3, u4, u5, u6, u7, x0, x1, x2, x3, x4, x5, x6, x7);
    }
}
