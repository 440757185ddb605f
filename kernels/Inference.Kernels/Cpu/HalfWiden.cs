using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Inference.Kernels.Cpu;

/// <summary>
/// Exact F16 to F32 widening of cache rows. .NET exposes no vcvtph2ps, and TensorPrimitives.ConvertToSingle
/// took about twice as long per row; an F16 pool is widened once per (query job, block), so on a prefill
/// this is on the attention's critical path.
/// </summary>
internal static unsafe class HalfWiden
{
    public static void Run(Half* src, float* dst, int n)
    {
        int i = 0;
        if (Avx512F.IsSupported)
        {
            // Exponent and mantissa moved to float position and scaled by 2^(127-15): exact for normals and
            // subnormals alike; the all-ones exponent (inf, NaN) is patched, the sign put back last.
            var magMask = Vector512.Create(0x0FFFE000u);
            var expMask = Vector512.Create(0x0F800000u);
            var scale = Vector512.Create(BitConverter.UInt32BitsToSingle(0x77800000u));
            for (; i + 16 <= n; i += 16)
            {
                var h = Avx512F.ConvertToVector512UInt32(Vector256.Load((ushort*)src + i));
                var mag = (h << 13) & magMask;
                var f = (mag.AsSingle() * scale).AsUInt32();
                var special = Vector512.Equals(mag & expMask, expMask);
                var r = Vector512.ConditionalSelect(special, mag | Vector512.Create(0x70000000u), f) | ((h & Vector512.Create(0x8000u)) << 16);
                r.AsSingle().Store(dst + i);
            }
        }
        if (i < n) TensorPrimitives.ConvertToSingle(new ReadOnlySpan<Half>(src + i, n - i), new Span<float>(dst + i, n - i));
    }
}
