using ILGPU.Algorithms;

namespace Inference.Kernels.Ilgpu.Kernels;

/// <summary>
/// Folds one KV partition's softmax partial (max, sum, unnormalized output) into a running one. The attention
/// kernel (partitions walked in one group) and <see cref="SplitKvMergeKernel"/> (partitions computed by separate
/// groups) both go through this, so a query's result does not depend on which of the two produced it.
/// </summary>
public struct SoftmaxMerge
{
    public float Max;
    public float Sum;
    /// <summary>Factor on the running output.</summary>
    public float OldScale;
    /// <summary>Factor on the new partition's output.</summary>
    public float NewScale;

    public static SoftmaxMerge Of(float runningMax, float runningSum, float partMax, float partSum)
    {
        float m = XMath.Max(runningMax, partMax);
        float ca = XMath.Exp(runningMax - m);
        float cb = XMath.Exp(partMax - m);
        return new SoftmaxMerge { Max = m, Sum = Fma.Mad(runningSum, ca, Fma.Mul(partSum, cb)), OldScale = ca, NewScale = cb };
    }

    public readonly float Output(float running, float part) => Fma.Mad(running, OldScale, Fma.Mul(part, NewScale));
}
