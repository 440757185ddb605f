using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Inference.Kernels.Cpu;

/// <summary>
/// Element-wise vector helpers over head_dim and hidden rows. Each element is updated independently, so
/// vector width changes nothing numerically: the vector and scalar-tail paths compute the same values.
/// </summary>
public static unsafe class VecOps
{
    /// <summary>y[i] = fma(a, x[i], y[i]).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Axpy(float a, float* x, float* y, int n)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var av = Vector512.Create(a);
            for (; i + 16 <= n; i += 16)
                Vector512.FusedMultiplyAdd(av, Vector512.Load(x + i), Vector512.Load(y + i)).Store(y + i);
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            var av = Vector256.Create(a);
            for (; i + 8 <= n; i += 8)
                Vector256.FusedMultiplyAdd(av, Vector256.Load(x + i), Vector256.Load(y + i)).Store(y + i);
        }
        for (; i < n; i++) y[i] = MathF.FusedMultiplyAdd(a, x[i], y[i]);
    }

    /// <summary>y[i] *= a.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Scale(float* y, float a, int n)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; i + 16 <= n; i += 16) (Vector512.Load(y + i) * a).Store(y + i);
        else if (Vector256.IsHardwareAccelerated)
            for (; i + 8 <= n; i += 8) (Vector256.Load(y + i) * a).Store(y + i);
        for (; i < n; i++) y[i] *= a;
    }

    /// <summary>Rotate-half of one head: x[i], x[i+half] by (cos[i], sin[i]).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void RotateHalf(float* x, float* cos, float* sin, int half)
    {
        float* x1p = x + half;
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; i + 16 <= half; i += 16)
            {
                var a = Vector512.Load(x + i);
                var b = Vector512.Load(x1p + i);
                var c = Vector512.Load(cos + i);
                var s = Vector512.Load(sin + i);
                (a * c - b * s).Store(x + i);
                (b * c + a * s).Store(x1p + i);
            }
        else if (Vector256.IsHardwareAccelerated)
            for (; i + 8 <= half; i += 8)
            {
                var a = Vector256.Load(x + i);
                var b = Vector256.Load(x1p + i);
                var c = Vector256.Load(cos + i);
                var s = Vector256.Load(sin + i);
                (a * c - b * s).Store(x + i);
                (b * c + a * s).Store(x1p + i);
            }
        for (; i < half; i++)
        {
            float a = x[i], b = x1p[i];
            x[i] = a * cos[i] - b * sin[i];
            x1p[i] = b * cos[i] + a * sin[i];
        }
    }
}
