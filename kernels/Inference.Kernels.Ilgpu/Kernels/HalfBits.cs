using ILGPU;

namespace Inference.Kernels.Ilgpu.Kernels;

/// <summary>
/// Float to IEEE half bits with round-to-nearest-even, in integer ops: ILGPU's own (Half) cast on the CPU
/// accelerator does not round like System.Half (the CPU backend's StoreKv), so the two pools would differ
/// by an F16 ulp; this gives the same bits on every accelerator.
/// </summary>
public static class HalfBits
{
    public static ushort FromFloat(float f)
    {
        uint x = Interop.FloatAsInt(f);
        uint sign = (x >> 16) & 0x8000u;
        uint abs = x & 0x7FFFFFFFu;
        if (abs >= 0x7F800000u) return (ushort)(sign | (abs > 0x7F800000u ? 0x7E00u : 0x7C00u));
        // 65520 and up round past the largest half (65504).
        if (abs >= 0x477FF000u) return (ushort)(sign | 0x7C00u);
        if (abs < 0x38800000u)
        {
            // Subnormal half: mantissa (with the implicit bit) shifted down by 126 - exponent, rounded to even.
            if (abs < 0x33000000u) return (ushort)sign;
            int shift = 126 - (int)(abs >> 23);
            uint mant = (abs & 0x7FFFFFu) | 0x800000u;
            uint r = (mant + (1u << (shift - 1)) - 1u + ((mant >> shift) & 1u)) >> shift;
            return (ushort)(sign | r);
        }
        // Normal: rebias the exponent (127 to 15) and round the 13 dropped bits to even; a carry bumps the exponent.
        uint n = abs - 0x38000000u;
        return (ushort)(sign | ((n + 0xFFFu + ((n >> 13) & 1u)) >> 13));
    }
}
