using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

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
        if (!Vector512.IsHardwareAccelerated)
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
        Finish(x0, w, ldw, k, n, y, a00, a01, a02, a03);
        Finish(x1, w, ldw, k, n, y + ldy, a10, a11, a12, a13);
        Finish(x2, w, ldw, k, n, y + 2 * ldy, a20, a21, a22, a23);
        Finish(x3, w, ldw, k, n, y + 3 * ldy, a30, a31, a32, a33);
    }

    /// <summary>Scalar tail then horizontal sum, in <see cref="SimdDot.Dot"/>'s order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Finish(float* x, float* w, long ldw, int k, int n, float* y,
        Vector512<float> a0, Vector512<float> a1, Vector512<float> a2, Vector512<float> a3)
    {
        float t0 = 0f, t1 = 0f, t2 = 0f, t3 = 0f;
        for (int i = k; i < n; i++)
        {
            t0 = MathF.FusedMultiplyAdd(x[i], w[i], t0);
            t1 = MathF.FusedMultiplyAdd(x[i], w[ldw + i], t1);
            t2 = MathF.FusedMultiplyAdd(x[i], w[2 * ldw + i], t2);
            t3 = MathF.FusedMultiplyAdd(x[i], w[3 * ldw + i], t3);
        }
        y[0] = Vector512.Sum(a0) + t0;
        y[1] = Vector512.Sum(a1) + t1;
        y[2] = Vector512.Sum(a2) + t2;
        y[3] = Vector512.Sum(a3) + t3;
    }
}
