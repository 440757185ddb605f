using Inference.Kernels;

namespace Inference.Tests.Ilgpu;

/// <summary>Builds host weights of every format from random F32 values (quantizing by hand for Int8/Int4).</summary>
public static unsafe class TestWeights
{
    public const int Int4Group = 8;

    /// <summary>An Int4 format with zero points, named apart from the symmetric one in test data.</summary>
    public const WeightFormat Int4Zero = (WeightFormat)100;

    public static HostWeight Make(WeightFormat format, int rows, int cols, int seed)
    {
        var w = RandomValues(rows * cols, seed);
        switch (format)
        {
            case WeightFormat.F32:
                return HostWeight.FromFloats("w", rows, cols, w);
            case WeightFormat.F16:
            case WeightFormat.BF16:
            {
                var buf = new NativeBuffer((long)rows * cols * 2);
                var dst = buf.AsSpan<ushort>();
                for (int i = 0; i < w.Length; i++)
                    dst[i] = format == WeightFormat.F16 ? BitConverter.HalfToUInt16Bits((Half)w[i]) : (ushort)(BitConverter.SingleToUInt32Bits(w[i]) >> 16);
                return new HostWeight("w", format, rows, cols, buf.Pointer, owner: buf);
            }
            case WeightFormat.Int8:
            {
                var data = new NativeBuffer((long)rows * cols);
                var scales = new NativeBuffer(rows * 4L);
                var q = data.AsSpan<sbyte>();
                var s = scales.AsSpan<float>();
                for (int r = 0; r < rows; r++)
                {
                    float max = 1e-6f;
                    for (int c = 0; c < cols; c++) max = Math.Max(max, Math.Abs(w[r * cols + c]));
                    s[r] = max / 127f;
                    for (int c = 0; c < cols; c++) q[r * cols + c] = (sbyte)Math.Clamp(MathF.Round(w[r * cols + c] / s[r]), -127, 127);
                }
                return new HostWeight("w", WeightFormat.Int8, rows, cols, data.Pointer, scales.Pointer, owner: new Owners(data, scales));
            }
            case WeightFormat.Int4:
            case Int4Zero:
            {
                bool zeros = format == Int4Zero;
                int groups = cols / Int4Group;
                var data = new NativeBuffer((long)rows * cols / 2);
                var scales = new NativeBuffer((long)rows * groups * 2);
                var zps = new NativeBuffer((long)rows * groups);
                var q = data.AsSpan<byte>();
                var s = scales.AsSpan<Half>();
                var z = zps.AsSpan<byte>();
                for (int r = 0; r < rows; r++)
                {
                    for (int g = 0; g < groups; g++)
                    {
                        var vals = w.AsSpan(r * cols + g * Int4Group, Int4Group);
                        float lo = float.MaxValue, hi = float.MinValue;
                        foreach (float v in vals) { lo = Math.Min(lo, v); hi = Math.Max(hi, v); }
                        float scale = zeros ? Math.Max(hi - lo, 1e-4f) / 15f : Math.Max(Math.Max(-lo, hi), 1e-4f) / 7f;
                        int zero = zeros ? Math.Clamp((int)MathF.Round(-lo / scale), 0, 15) : 8;
                        s[r * groups + g] = (Half)scale;
                        z[r * groups + g] = (byte)zero;
                        for (int i = 0; i < Int4Group; i++)
                        {
                            int c = g * Int4Group + i;
                            int qv = Math.Clamp((int)MathF.Round(vals[i] / scale) + zero, 0, 15);
                            long bi = ((long)r * cols + c) / 2;
                            q[(int)bi] |= (byte)(c % 2 == 0 ? qv : qv << 4);
                        }
                    }
                }
                return new HostWeight("w", WeightFormat.Int4, rows, cols, data.Pointer, scales.Pointer,
                    zeros ? zps.Pointer : null, Int4Group, new Owners(data, scales, zps));
            }
            default:
                throw new ArgumentException(format.ToString());
        }
    }

    /// <summary>Uniform values in [-1, 1) from a seed (the bench links this file and has no test helpers).</summary>
    public static float[] RandomValues(int n, int seed, float scale = 1f)
    {
        var r = new Random(seed);
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float)(r.NextDouble() * 2 - 1) * scale;
        return a;
    }

    private sealed class Owners(params IDisposable[] owned) : IDisposable
    {
        public void Dispose()
        {
            foreach (var o in owned) o.Dispose();
        }
    }
}
