namespace Inference.Kernels.Cpu;

/// <summary>
/// The integer dot of <see cref="IntDotKernel"/> without SIMD, for CPUs without AVX-VNNI: the same exact
/// lane integers, the same F32 FMA per lane and block, the same horizontal sum, hence the same values.
/// </summary>
internal static unsafe class IntDotScalar
{
    public static float Dot(QuantizedRow x, HostWeight w, int o, BlockLayout layout)
    {
        int k = w.Cols, blocks = k / ActivationQuantizer.Block;
        bool int4 = w.Format == WeightFormat.Int4;
        int groups = int4 ? k / w.GroupSize : 1;
        float* acc = stackalloc float[8];
        for (int l = 0; l < 8; l++) acc[l] = 0f;
        for (int b = 0; b < blocks; b++)
        {
            float c = x.Scales[b];
            int zero = 0;
            if (int4)
            {
                int g = o * groups + b * 32 / w.GroupSize;
                c *= HalfBits.ToSingle(((ushort*)w.Scales)[g]);
                zero = w.ZeroPoints == null ? 8 : w.ZeroPoints[g];
            }
            for (int l = 0; l < 8; l++)
            {
                int lane = 0;
                for (int t = 0; t < 4; t++)
                {
                    int p = 4 * l + t;
                    lane += Weight(w, o, b * 32 + ActivationQuantizer.Source(layout, p), zero) * x.Q[b * 32 + p];
                }
                acc[l] = MathF.FusedMultiplyAdd(lane, c, acc[l]);
            }
        }
        float h0 = acc[0] + acc[4], h1 = acc[1] + acc[5], h2 = acc[2] + acc[6], h3 = acc[3] + acc[7];
        float sum = (h0 + h2) + (h1 + h3);
        return int4 ? sum : sum * ((float*)w.Scales)[o];
    }

    private static int Weight(HostWeight w, int o, int i, int zero)
    {
        long at = (long)o * w.Cols + i;
        if (w.Format == WeightFormat.Int8) return ((sbyte*)w.Data)[at];
        return ((((byte*)w.Data)[at >> 1] >> (int)((at & 1) * 4)) & 0xF) - zero;
    }
}
