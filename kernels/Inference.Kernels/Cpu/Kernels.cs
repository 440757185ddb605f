using System.Numerics.Tensors;

namespace Inference.Kernels.Cpu;

/// <summary>RMSNorm of one row: y = x / sqrt(mean(x^2) + eps) * w, as transformers computes it in F32.</summary>
internal readonly unsafe struct RmsNormJob(CpuActivation x, HostWeight w, float eps, CpuActivation y) : IParallelJob
{
    public void Execute(int r) => RmsNormKernel.Row(x.Row(r), (float*)w.Data, eps, y.Row(r), x.Cols);
}

/// <summary>Scalar-ordered RMSNorm used by every backend on the CPU side.</summary>
public static unsafe class RmsNormKernel
{
    public static void Row(float* x, float* w, float eps, float* y, int n)
    {
        var xs = new ReadOnlySpan<float>(x, n);
        float ss = SimdDot.Dot(x, x, n);
        float inv = 1f / MathF.Sqrt(ss / n + eps);
        var ys = new Span<float>(y, n);
        TensorPrimitives.Multiply(xs, inv, ys);
        TensorPrimitives.Multiply(ys, new ReadOnlySpan<float>(w, n), ys);
    }
}

/// <summary>out = silu(gate) * up for one row.</summary>
internal readonly unsafe struct SiluMulJob(CpuActivation gate, CpuActivation up, CpuActivation output) : IParallelJob
{
    public void Execute(int r)
    {
        int n = gate.Cols;
        float* g = gate.Row(r), u = up.Row(r), o = output.Row(r);
        // silu(g) * u = sigmoid(g) * g * u, vectorized in chunks through a stack buffer because the
        // output may alias the gate (the model writes it in place).
        const int Chunk = 256;
        float* s = stackalloc float[Chunk];
        for (int i = 0; i < n; i += Chunk)
        {
            int m = Math.Min(Chunk, n - i);
            var sig = new Span<float>(s, m);
            TensorPrimitives.Sigmoid(new ReadOnlySpan<float>(g + i, m), sig);
            TensorPrimitives.Multiply(sig, new ReadOnlySpan<float>(g + i, m), sig);
            TensorPrimitives.Multiply(sig, new ReadOnlySpan<float>(u + i, m), new Span<float>(o + i, m));
        }
    }
}

/// <summary>Rotate-half RoPE of all heads of one row in place.</summary>
public static unsafe class RopeKernel
{
    /// <summary>cos and sin of position * InvFreq[i], i in [0, HeadDim / 2): the angles every head of a token rotates by.</summary>
    public static void Angles(RopeTable table, int pos, float* cos, float* sin)
    {
        float[] invFreq = table.InvFreq;
        for (int i = 0; i < invFreq.Length; i++)
        {
            float angle = pos * invFreq[i];
            cos[i] = MathF.Cos(angle);
            sin[i] = MathF.Sin(angle);
        }
    }

    /// <summary>Rotates every head of the row by angles from <see cref="Angles"/>.</summary>
    public static void Apply(float* row, int numHeads, int headDim, float* cos, float* sin)
    {
        for (int h = 0; h < numHeads; h++) VecOps.RotateHalf(row + h * headDim, cos, sin, headDim / 2);
    }

    public static void Apply(float* row, int numHeads, RopeTable table, int pos)
    {
        int half = table.HeadDim / 2;
        float* cos = stackalloc float[half];
        float* sin = stackalloc float[half];
        Angles(table, pos, cos, sin);
        Apply(row, numHeads, table.HeadDim, cos, sin);
    }
}
