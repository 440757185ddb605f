using System.Runtime.CompilerServices;

namespace Inference.Kernels.Cpu;

/// <summary>F16 bits to F32, exact for every finite value (scales are finite), without the library's slow path.</summary>
internal static class HalfBits
{
    private const float Pow112 = 5.192296858534828e33f; // 2^112 = 2^(127 - 15), exactly

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float ToSingle(ushort h)
    {
        // Exponent and mantissa moved into F32 position and rescaled: exact for normals and subnormals.
        // The sign goes in with the bits: a branch on it would mispredict half the time (symmetric scales are max / -8).
        return BitConverter.UInt32BitsToSingle(((uint)(h & 0x8000) << 16) | ((uint)(h & 0x7FFF) << 13)) * Pow112;
    }
}
