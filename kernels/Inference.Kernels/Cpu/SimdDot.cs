using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Inference.Kernels.Cpu;

/// <summary>
/// Dot products with one fixed reduction order per output element: a single vector accumulator walked
/// over K, a scalar tail, then one horizontal sum. Every matmul path (one row or many) goes through
/// these, so a token's result never depends on how many other rows share the step (batch invariance).
/// </summary>
public static unsafe class SimdDot
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dot(float* a, float* b, int n)
    {
        int i = 0;
        float tail = 0f;
        if (Vector512.IsHardwareAccelerated)
        {
            var acc = Vector512<float>.Zero;
            for (; i + 16 <= n; i += 16)
                acc = Vector512.FusedMultiplyAdd(Vector512.Load(a + i), Vector512.Load(b + i), acc);
            for (; i < n; i++) tail = MathF.FusedMultiplyAdd(a[i], b[i], tail);
            return Vector512.Sum(acc) + tail;
        }
        if (Vector256.IsHardwareAccelerated)
        {
            var acc = Vector256<float>.Zero;
            for (; i + 8 <= n; i += 8)
                acc = Vector256.FusedMultiplyAdd(Vector256.Load(a + i), Vector256.Load(b + i), acc);
            for (; i < n; i++) tail = MathF.FusedMultiplyAdd(a[i], b[i], tail);
            return Vector256.Sum(acc) + tail;
        }
        for (; i < n; i++) tail = MathF.FusedMultiplyAdd(a[i], b[i], tail);
        return tail;
    }

    /// <summary>
    /// One x row against four weight rows: four independent accumulators hide FMA latency, and each
    /// output element is reduced exactly as <see cref="Dot"/> would reduce it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Dot4(float* x, float* w0, float* w1, float* w2, float* w3, int n, float* y)
    {
        int i = 0;
        float t0 = 0f, t1 = 0f, t2 = 0f, t3 = 0f;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
            for (; i + 16 <= n; i += 16)
            {
                var xv = Vector512.Load(x + i);
                a0 = Vector512.FusedMultiplyAdd(xv, Vector512.Load(w0 + i), a0);
                a1 = Vector512.FusedMultiplyAdd(xv, Vector512.Load(w1 + i), a1);
                a2 = Vector512.FusedMultiplyAdd(xv, Vector512.Load(w2 + i), a2);
                a3 = Vector512.FusedMultiplyAdd(xv, Vector512.Load(w3 + i), a3);
            }
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
            return;
        }
        y[0] = Dot(x, w0, n);
        y[1] = Dot(x, w1, n);
        y[2] = Dot(x, w2, n);
        y[3] = Dot(x, w3, n);
    }
}
