using System.Numerics.Tensors;

namespace Inference.Kernels.Cpu;

/// <summary>Row-wise argmax straight from the activation (no copy), by TensorPrimitives.IndexOfMax as the sampler does.</summary>
internal readonly unsafe struct ArgMaxJob(CpuActivation x, int* indices, float* values) : IParallelJob
{
    // Below this many elements a row is faster done inline than handed to the pool.
    public const int ParallelCols = 16384;

    public void Execute(int r)
    {
        var row = x.RowSpan(r);
        int i = TensorPrimitives.IndexOfMax<float>(row);
        indices[r] = i;
        values[r] = row[i];
    }
}
