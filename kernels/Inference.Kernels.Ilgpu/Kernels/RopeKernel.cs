using ILGPU;
using ILGPU.Algorithms;

namespace Inference.Kernels.Ilgpu.Kernels;

/// <summary>
/// Rotate-half RoPE over q and k in one launch: one thread per (token, head of q or k, pair i).
/// </summary>
public static class RopeKernel
{
    public static void Run(Index1D i, ArrayView<float> q, ArrayView<float> k, ArrayView<int> positions,
        ArrayView<float> invFreq, int numHeads, int numKvHeads, int headDim)
    {
        int half = headDim / 2;
        int heads = numHeads + numKvHeads;
        int pair = i % half;
        int th = i / half;
        int h = th % heads;
        int t = th / heads;
        // F32 angle exactly as the reference computes it; positions reach thousands of radians, so the
        // reduction to [-pi, pi] is done in F64 before the (possibly approximate) device sin/cos.
        float angle = positions[t] * invFreq[pair];
        double twoPi = 2.0 * System.Math.PI;
        float reduced = (float)(angle - XMath.Round(angle / twoPi) * twoPi);
        float cos = XMath.Cos(reduced);
        float sin = XMath.Sin(reduced);
        ArrayView<float> x = h < numHeads ? q : k;
        int hh = h < numHeads ? h : h - numHeads;
        long rowBase = (long)t * (h < numHeads ? numHeads : numKvHeads) * headDim + hh * headDim;
        float x0 = x[rowBase + pair];
        float x1 = x[rowBase + pair + half];
        x[rowBase + pair] = x0 * cos - x1 * sin;
        x[rowBase + pair + half] = x1 * cos + x0 * sin;
    }
}
