using ILGPU;
using ILGPU.Runtime;

namespace Inference.Kernels.Ilgpu;

/// <summary>An F32 activation [MaxRows, Cols] in device memory.</summary>
public sealed class IlgpuActivation : IActivation
{
    public MemoryBuffer1D<float, Stride1D.Dense> Buffer { get; }
    public int MaxRows { get; }
    public int Cols { get; }

    public IlgpuActivation(Accelerator accelerator, int maxRows, int cols)
    {
        MaxRows = maxRows;
        Cols = cols;
        Buffer = accelerator.Allocate1D<float>(Math.Max(1L, (long)maxRows * cols));
        Buffer.MemSetToZero();
    }

    public ArrayView<float> View => Buffer.View.AsContiguous();

    /// <summary>The first <paramref name="rows"/> rows.</summary>
    public ArrayView<float> Rows(int rows) => View.SubView(0, (long)rows * Cols);

    public void Dispose() => Buffer.Dispose();
}
