using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Inference.Kernels.Cpu;

/// <summary>
/// F32 matmul kernels over <see cref="F32Panels"/>. Per output element: acc = 0, then acc = fma(x[k], w[k], acc)
/// for k = 0, 1, ..., K-1; both kernels (one x row, six x rows) do exactly that, so a row's result does not
/// depend on the batch or the tile it was computed in.
/// </summary>
internal static unsafe class PanelDot
{
    /// <summary>Rows a <see cref="Tile"/> takes.</summary>
    public const int TileRows = 6;

    /// <summary>One x row against one panel: y[0..64).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Row(float* x, float* p, int k, float* y)
    {
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
        for (int i = 0; i < k; i++, p += F32Panels.Width)
        {
            var b = Vector512.Create(x[i]);
            a0 = Vector512.FusedMultiplyAdd(b, Vector512.Load(p), a0);
            a1 = Vector512.FusedMultiplyAdd(b, Vector512.Load(p + 16), a1);
            a2 = Vector512.FusedMultiplyAdd(b, Vector512.Load(p + 32), a2);
            a3 = Vector512.FusedMultiplyAdd(b, Vector512.Load(p + 48), a3);
        }
        a0.Store(y);
        a1.Store(y + 16);
        a2.Store(y + 32);
        a3.Store(y + 48);
    }

    /// <summary>
    /// Six x rows (stride ldx) against one panel: 24 accumulators, four panel loads and six broadcasts per 24
    /// FMAs. y[i * ldy + j] = row i, output j (0..64).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Tile(float* x, long ldx, float* p, int k, float* y, long ldy)
    {
        float* x0 = x, x1 = x + ldx, x2 = x + 2 * ldx, x3 = x + 3 * ldx, x4 = x + 4 * ldx, x5 = x + 5 * ldx;
        Vector512<float> a00 = default, a01 = default, a02 = default, a03 = default;
        Vector512<float> a10 = default, a11 = default, a12 = default, a13 = default;
        Vector512<float> a20 = default, a21 = default, a22 = default, a23 = default;
        Vector512<float> a30 = default, a31 = default, a32 = default, a33 = default;
        Vector512<float> a40 = default, a41 = default, a42 = default, a43 = default;
        Vector512<float> a50 = default, a51 = default, a52 = default, a53 = default;
        for (int i = 0; i < k; i++, p += F32Panels.Width)
        {
            var w0 = Vector512.Load(p);
            var w1 = Vector512.Load(p + 16);
            var w2 = Vector512.Load(p + 32);
            var w3 = Vector512.Load(p + 48);
            var b = Vector512.Create(x0[i]);
            a00 = Vector512.FusedMultiplyAdd(b, w0, a00); a01 = Vector512.FusedMultiplyAdd(b, w1, a01);
            a02 = Vector512.FusedMultiplyAdd(b, w2, a02); a03 = Vector512.FusedMultiplyAdd(b, w3, a03);
            b = Vector512.Create(x1[i]);
            a10 = Vector512.FusedMultiplyAdd(b, w0, a10); a11 = Vector512.FusedMultiplyAdd(b, w1, a11);
            a12 = Vector512.FusedMultiplyAdd(b, w2, a12); a13 = Vector512.FusedMultiplyAdd(b, w3, a13);
            b = Vector512.Create(x2[i]);
            a20 = Vector512.FusedMultiplyAdd(b, w0, a20); a21 = Vector512.FusedMultiplyAdd(b, w1, a21);
            a22 = Vector512.FusedMultiplyAdd(b, w2, a22); a23 = Vector512.FusedMultiplyAdd(b, w3, a23);
            b = Vector512.Create(x3[i]);
            a30 = Vector512.FusedMultiplyAdd(b, w0, a30); a31 = Vector512.FusedMultiplyAdd(b, w1, a31);
            a32 = Vector512.FusedMultiplyAdd(b, w2, a32); a33 = Vector512.FusedMultiplyAdd(b, w3, a33);
            b = Vector512.Create(x4[i]);
            a40 = Vector512.FusedMultiplyAdd(b, w0, a40); a41 = Vector512.FusedMultiplyAdd(b, w1, a41);
            a42 = Vector512.FusedMultiplyAdd(b, w2, a42); a43 = Vector512.FusedMultiplyAdd(b, w3, a43);
            b = Vector512.Create(x5[i]);
            a50 = Vector512.FusedMultiplyAdd(b, w0, a50); a51 = Vector512.FusedMultiplyAdd(b, w1, a51);
            a52 = Vector512.FusedMultiplyAdd(b, w2, a52); a53 = Vector512.FusedMultiplyAdd(b, w3, a53);
        }
        Store(y, a00, a01, a02, a03);
        Store(y + ldy, a10, a11, a12, a13);
        Store(y + 2 * ldy, a20, a21, a22, a23);
        Store(y + 3 * ldy, a30, a31, a32, a33);
        Store(y + 4 * ldy, a40, a41, a42, a43);
        Store(y + 5 * ldy, a50, a51, a52, a53);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* y, Vector512<float> a, Vector512<float> b, Vector512<float> c, Vector512<float> d)
    {
        a.Store(y);
        b.Store(y + 16);
        c.Store(y + 32);
        d.Store(y + 48);
    }
}
