using Inference.Kernels.Ilgpu.Kernels;

namespace Inference.Kernels.Ilgpu;

/// <summary>An op run with a weight's typed reader (picks the kernel specialization for the weight's format).</summary>
internal interface IReaderOp
{
    void Run<TW>(TW reader) where TW : struct, IWeightReader;
}

/// <summary>Dispatches an <see cref="IReaderOp"/> on a weight's stored format.</summary>
internal static class ReaderDispatch
{
    public static void Run<TOp>(IlgpuWeight w, ref TOp op) where TOp : struct, IReaderOp
    {
        switch (w.Format)
        {
            case WeightFormat.F32: op.Run(w.AsF32()); break;
            case WeightFormat.F16: op.Run(w.AsF16()); break;
            case WeightFormat.BF16: op.Run(w.AsBf16()); break;
            case WeightFormat.Int8: op.Run(w.AsInt8()); break;
            case WeightFormat.Int4: op.Run(w.AsInt4()); break;
            default: throw new NotSupportedException($"{w.Name}: format {w.Format}");
        }
    }
}
