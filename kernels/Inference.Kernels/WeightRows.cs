using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace Inference.Kernels;

/// <summary>Widens one row of any weight format to F32 (dequantizing quantized rows).</summary>
public static unsafe class WeightRows
{
    public static void Dequantize(HostWeight w, int row, Span<float> dst)
    {
        if ((uint)row >= (uint)w.Rows) throw new ArgumentOutOfRangeException(nameof(row), $"{w.Name}: row {row} of {w.Rows}");
        int n = w.Cols;
        dst = dst[..n];
        byte* p = (byte*)w.Data + row * w.RowBytes;
        switch (w.Format)
        {
            case WeightFormat.F32:
                new ReadOnlySpan<float>(p, n).CopyTo(dst);
                break;
            case WeightFormat.F16:
                TensorPrimitives.ConvertToSingle(new ReadOnlySpan<Half>(p, n), dst);
                break;
            case WeightFormat.BF16:
                Bf16ToF32(new ReadOnlySpan<ushort>(p, n), dst);
                break;
            case WeightFormat.Int8:
            {
                float scale = ((float*)w.Scales)[row];
                var q = new ReadOnlySpan<sbyte>(p, n);
                for (int i = 0; i < n; i++) dst[i] = q[i] * scale;
                break;
            }
            case WeightFormat.Int4:
            {
                int groups = n / w.GroupSize;
                Half* scales = (Half*)w.Scales + (long)row * groups;
                byte* zps = w.ZeroPoints == null ? null : w.ZeroPoints + (long)row * groups;
                for (int i = 0; i < n; i++)
                {
                    int g = i / w.GroupSize;
                    int q = (p[i >> 1] >> ((i & 1) * 4)) & 0xF;
                    int zero = zps == null ? 8 : zps[g];
                    dst[i] = (q - zero) * (float)scales[g];
                }
                break;
            }
            default:
                throw new NotSupportedException($"{w.Name}: format {w.Format}");
        }
    }

    /// <summary>BF16 is the high half of an F32: widen by shifting left 16 bits.</summary>
    public static void Bf16ToF32(ReadOnlySpan<ushort> src, Span<float> dst)
    {
        int n = src.Length;
        int i = 0;
        fixed (ushort* s = src)
        fixed (float* d = dst)
        {
            if (Vector512.IsHardwareAccelerated)
            {
                for (; i + 32 <= n; i += 32)
                {
                    var v = Vector512.Load(s + i);
                    var (lo, hi) = Vector512.Widen(v);
                    Vector512.ShiftLeft(lo, 16).AsSingle().Store(d + i);
                    Vector512.ShiftLeft(hi, 16).AsSingle().Store(d + i + 16);
                }
            }
            else if (Vector256.IsHardwareAccelerated)
            {
                for (; i + 16 <= n; i += 16)
                {
                    var v = Vector256.Load(s + i);
                    var (lo, hi) = Vector256.Widen(v);
                    Vector256.ShiftLeft(lo, 16).AsSingle().Store(d + i);
                    Vector256.ShiftLeft(hi, 16).AsSingle().Store(d + i + 8);
                }
            }
            for (; i < n; i++) d[i] = BitConverter.Int32BitsToSingle(s[i] << 16);
        }
    }
}
