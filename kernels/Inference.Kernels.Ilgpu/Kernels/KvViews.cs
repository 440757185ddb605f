using ILGPU;
using Half = ILGPU.Half;

namespace Inference.Kernels.Ilgpu.Kernels;

/// <summary>
/// One layer's K or V pool as kernels see it: elements load as F32 whatever is stored, so the attention
/// kernel is one generic body and F16 only changes the bytes read, not the arithmetic.
/// </summary>
public interface IKvView
{
    float Load(long i);
    void Store(long i, float x);
}

public struct F32KvView : IKvView
{
    public ArrayView<float> Data;
    public readonly float Load(long i) => Data[i];
    public readonly void Store(long i, float x) => Data[i] = x;
}

public struct F16KvView : IKvView
{
    public ArrayView<Half> Data;
    /// <summary>The same memory as raw bits, written with <see cref="HalfBits"/> rounding.</summary>
    public ArrayView<ushort> Bits;
    public readonly float Load(long i) => Data[i];
    public readonly void Store(long i, float x) => Bits[i] = HalfBits.FromFloat(x);
}
