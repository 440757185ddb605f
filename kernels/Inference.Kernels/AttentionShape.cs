namespace Inference.Kernels;

/// <summary>Head layout of one attention call; Scale is usually 1/sqrt(HeadDim).</summary>
public readonly record struct AttentionShape(int NumHeads, int NumKvHeads, int HeadDim, float Scale)
{
    public int QDim => NumHeads * HeadDim;
    public int KvDim => NumKvHeads * HeadDim;
}
