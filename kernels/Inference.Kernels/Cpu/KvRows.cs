using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Inference.Kernels.Cpu;

/// <summary>
/// How attention reads 16 consecutive K or V elements as F32: a struct per cache element type, so the score
/// and V kernels compile once per type with the load inlined. Both give exact F32 values, so a token's result
/// does not depend on which one read it.
/// </summary>
internal unsafe interface IKvRows
{
    /// <summary>Elements [i, i + 16) of the row data at p.</summary>
    static abstract Vector512<float> Load(void* p, long i);
}

/// <summary>An F32 cache (or widened scratch).</summary>
internal readonly struct F32Rows : IKvRows
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe Vector512<float> Load(void* p, long i) => Vector512.Load((float*)p + i);
}

/// <summary>A BF16 cache: zero-extend and shift into F32 position, in registers (no widened copy).</summary>
internal readonly struct Bf16Rows : IKvRows
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe Vector512<float> Load(void* p, long i) =>
        (Avx512F.ConvertToVector512UInt32(Vector256.Load((ushort*)p + i)) << 16).AsSingle();
}
