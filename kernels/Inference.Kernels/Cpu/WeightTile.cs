using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Inference.Kernels.Cpu;

/// <summary>
/// Widens weight rows into an F32 tile for the tiled (prefill) matmul. Int8 rows are written unscaled
/// (the per-row scale multiplies the finished dot), int4 rows as (q - zero) * scale; both are exact in F32,
/// which is what lets <see cref="QuantDot"/> produce the same values in registers.
/// </summary>
public static unsafe class WeightTile
{
    public static void Widen(HostWeight w, int row, float* dst)
    {
        int n = w.Cols;
        switch (w.Format)
        {
            case WeightFormat.F32:
                Buffer.MemoryCopy((float*)w.Data + (long)row * n, dst, n * 4L, n * 4L);
                break;
            case WeightFormat.F16:
                TensorPrimitives.ConvertToSingle(new ReadOnlySpan<Half>((Half*)w.Data + (long)row * n, n), new Span<float>(dst, n));
                break;
            case WeightFormat.BF16:
                WeightRows.Bf16ToF32(new ReadOnlySpan<ushort>((ushort*)w.Data + (long)row * n, n), new Span<float>(dst, n));
                break;
            case WeightFormat.Int8:
                Int8(((sbyte*)w.Data) + (long)row * n, dst, n);
                break;
            case WeightFormat.Int4:
                Int4(w, row, dst);
                break;
            default:
                throw new NotSupportedException($"{w.Name}: format {w.Format}");
        }
    }

    private static void Int8(sbyte* q, float* dst, int n)
    {
        int i = 0;
        if (Avx512F.IsSupported)
            for (; i + 16 <= n; i += 16) QuantDot.Widen8(q + i).Store(dst + i);
        for (; i < n; i++) dst[i] = q[i];
    }

    private static void Int4(HostWeight w, int row, float* dst)
    {
        int n = w.Cols, gs = w.GroupSize, groups = n / gs;
        byte* q = (byte*)w.Data + (long)row * (n / 2);
        Half* scales = (Half*)w.Scales + (long)row * groups;
        byte* zeros = w.ZeroPoints == null ? null : w.ZeroPoints + (long)row * groups;
        bool simd = QuantDot.Supports(w);
        for (int g = 0; g < groups; g++)
        {
            float s = (float)scales[g];
            float z = zeros == null ? 8f : zeros[g];
            int i = g * gs, end = i + gs;
            if (simd)
            {
                var table = QuantDot.Table(s, z);
                for (; i < end; i += 32)
                {
                    QuantDot.Unpack4(q + i / 2, table, out var lo, out var hi);
                    lo.Store(dst + i);
                    hi.Store(dst + i + 16);
                }
            }
            for (; i < end; i++) dst[i] = (((q[i >> 1] >> ((i & 1) * 4)) & 0xF) - z) * s;
        }
    }
}
