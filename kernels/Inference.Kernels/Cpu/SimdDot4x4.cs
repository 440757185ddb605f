using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Inference.Kernels.Cpu;

/// <summary>
/// The register-tiled matmul micro-kernel: four x rows against four weight rows, sixteen accumulators.
/// Each loaded vector feeds four FMAs (eight loads per sixteen FMAs instead of five per four), while every
/// output element is still reduced exactly as <see cref="SimdDot.Dot"/> reduces it, so a row's result does
/// not depend on whether it was computed in a tile or alone.
/// </summary>
public static unsafe class SimdDot4x4
{
    /// <summary>y[i * ldy + j] = dot(x + i*ldx, w + j*ldw) for i, j in 0..3.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(float* x, long ldx, float* w, long ldw, int n, float* y, long ldy)
    {
        if (!Vector512.IsHardwareAccelerated || !Avx512F.IsSupported)
        {
            for (int i = 0; i < 4; i++)
                SimdDot.Dot4(x + i * ldx, w, w + ldw, w + 2 * ldw, w + 3 * ldw, n, y + i * ldy);
            return;
        }
        float* x0 = x, x1 = x + ldx, x2 = x + 2 * ldx, x3 = x + 3 * ldx;
        float* w0 = w, w1 = w + ldw, w2 = w + 2 * ldw, w3 = w + 3 * ldw;
        Vector512<float> a00 = default, a01 = default, a02 = default, a03 = default;
        Vector512<float> a10 = default, a11 = default, a12 = default, a13 = default;
        Vector512<float> a20 = default, a21 = default, a22 = default, a23 = default;
        Vector512<float> a30 = default, a31 = default, a32 = default, a33 = default;
        int k = 0;
        for (; k + 16 <= n; k += 16)
        {
            var v0 = Vector512.Load(w0 + k);
            var v1 = Vector512.Load(w1 + k);
            var v2 = Vector512.Load(w2 + k);
            var v3 = Vector512.Load(w3 + k);
            var xv = Vector512.Load(x0 + k);
            a00 = Vector512.FusedMultiplyAdd(xv, v0, a00);
            a01 = Vector512.FusedMultiplyAdd(xv, v1, a01);
            a02 = Vector512.FusedMultiplyAdd(xv, v2, a02);
            a03 = Vector512.FusedMultiplyAdd(xv, v3, a03);
            xv = Vector512.Load(x1 + k);
            a10 = Vector512.FusedMultiplyAdd(xv, v0, a10);
            a11 = Vector512.FusedMultiplyAdd(xv, v1, a11);
            a12 = Vector512.FusedMultiplyAdd(xv, v2, a12);
            a13 = Vector512.FusedMultiplyAdd(xv, v3, a13);
            xv = Vector512.Load(x2 + k);
            a20 = Vector512.FusedMultiplyAdd(xv, v0, a20);
            a21 = Vector512.FusedMultiplyAdd(xv, v1, a21);
            a22 = Vector512.FusedMultiplyAdd(xv, v2, a22);
            a23 = Vector512.FusedMultiplyAdd(xv, v3, a23);
            xv = Vector512.Load(x3 + k);
            a30 = Vector512.FusedMultiplyAdd(xv, v0, a30);
            a31 = Vector512.FusedMultiplyAdd(xv, v1, a31);
            a32 = Vector512.FusedMultiplyAdd(xv, v2, a32);
            a33 = Vector512.FusedMultiplyAdd(xv, v3, a33);
        }
        // All sixteen horizontal sums at once, in Vector512.Sum's own order (see Reduce16), then each
        // element's scalar tail added last, as SimdDot.Dot adds it.
        float* e = stackalloc float[16];
        Reduce16(a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33).Store(e);
        Finish(x0, w, ldw, k, n, e, y);
        Finish(x1, w, ldw, k, n, e + 4, y + ldy);
        Finish(x2, w, ldw, k, n, e + 8, y + 2 * ldy);
        Finish(x3, w, ldw, k, n, e + 12, y + 3 * ldy);
    }

    /// <summary>Scalar tail of one x row against the four weight rows, added to their vector sums <paramref name="e"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Finish(float* x, float* w, long ldw, int k, int n, float* e, float* y)
    {
        float t0 = 0f, t1 = 0f, t2 = 0f, t3 = 0f;
        for (int i = k; i < n; i++)
        {
            t0 = MathF.FusedMultiplyAdd(x[i], w[i], t0);
            t1 = MathF.FusedMultiplyAdd(x[i], w[ldw + i], t1);
            t2 = MathF.FusedMultiplyAdd(x[i], w[2 * ldw + i], t2);
            t3 = MathF.FusedMultiplyAdd(x[i], w[3 * ldw + i], t3);
        }
        y[0] = e[0] + t0;
        y[1] = e[1] + t1;
        y[2] = e[2] + t2;
        y[3] = e[3] + t3;
    }

    /// <summary>
    /// Lane j = Vector512.Sum(a_j) bit for bit: Sum adds adjacent lanes, then adjacent pairs of those, up a
    /// tree (checked against it in CpuKernelTests), so the same tree is built for sixteen vectors at once:
    /// 45 shuffles and adds instead of sixteen separate reductions (~11% of a 4x4 tile at K = 768).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Reduce16(Vector512<float> a0, Vector512<float> a1, Vector512<float> a2, Vector512<float> a3,
        Vector512<float> a4, Vector512<float> a5, Vector512<float> a6, Vector512<float> a7,
        Vector512<float> a8, Vector512<float> a9, Vector512<float> a10, Vector512<float> a11,
        Vector512<float> a12, Vector512<float> a13, Vector512<float> a14, Vector512<float> a15)
    {
        var c0 = Pairs(Pairs(a0, a1), Pairs(a2, a3));
        var c1 = Pairs(Pairs(a4, a5), Pairs(a6, a7));
        var c2 = Pairs(Pairs(a8, a9), Pairs(a10, a11));
        var c3 = Pairs(Pairs(a12, a13), Pairs(a14, a15));
        return Chunks(Chunks(c0, c1), Chunks(c2, c3));
    }

    /// <summary>Per 128-bit lane: [x0+x1, x2+x3, y0+y1, y2+y3].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Pairs(Vector512<float> x, Vector512<float> y) =>
        Avx512F.Shuffle(x, y, 0b10_00_10_00) + Avx512F.Shuffle(x, y, 0b11_01_11_01);

    /// <summary>Per 128-bit chunk: [x0+x1, x2+x3, y0+y1, y2+y3].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Chunks(Vector512<float> x, Vector512<float> y) =>
        Avx512F.Shuffle4x128(x, y, 0b10_00_10_00) + Avx512F.Shuffle4x128(x, y, 0b11_01_11_01);
}
