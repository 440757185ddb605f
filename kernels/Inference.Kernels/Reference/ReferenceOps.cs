namespace Inference.Kernels.Reference;

/// <summary>
/// Plain scalar versions of every op, written for obviousness rather than speed: the oracle that the
/// SIMD and ILGPU kernels are tested against. Attention here is the textbook contiguous softmax.
/// </summary>
public static class ReferenceOps
{
    /// <summary>y[r, o] = sum_k x[r, k] * w[o, k] (+ bias[o]); x [rows, k], w [outF, k].</summary>
    public static void MatMul(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y, int rows, int k, int outF)
    {
        for (int r = 0; r < rows; r++)
            for (int o = 0; o < outF; o++)
            {
                double sum = 0;
                for (int i = 0; i < k; i++) sum += (double)x[r * k + i] * w[o * k + i];
                y[r * outF + o] = (float)sum + (bias.IsEmpty ? 0f : bias[o]);
            }
    }

    public static void RmsNorm(ReadOnlySpan<float> x, ReadOnlySpan<float> w, float eps, Span<float> y, int rows, int n)
    {
        for (int r = 0; r < rows; r++)
        {
            double ss = 0;
            for (int i = 0; i < n; i++) ss += (double)x[r * n + i] * x[r * n + i];
            float inv = (float)(1.0 / Math.Sqrt(ss / n + eps));
            for (int i = 0; i < n; i++) y[r * n + i] = x[r * n + i] * inv * w[i];
        }
    }

    /// <summary>Rotate-half RoPE of every head of one row at position pos.</summary>
    public static void Rope(Span<float> row, int numHeads, int headDim, ReadOnlySpan<float> invFreq, int pos)
    {
        int half = headDim / 2;
        for (int h = 0; h < numHeads; h++)
            for (int i = 0; i < half; i++)
            {
                double angle = (double)(pos * invFreq[i]);
                float c = (float)Math.Cos(angle), s = (float)Math.Sin(angle);
                float x0 = row[h * headDim + i], x1 = row[h * headDim + i + half];
                row[h * headDim + i] = x0 * c - x1 * s;
                row[h * headDim + i + half] = x1 * c + x0 * s;
            }
    }

    /// <summary>
    /// Causal attention over one whole sequence: q [len, heads*headDim], k and v [len, kvHeads*headDim]
    /// (contiguous, position = row index), query row i attends keys 0..(offset + i).
    /// </summary>
    public static void CausalAttention(ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, Span<float> output,
        int numQueries, int queryOffset, int numHeads, int numKvHeads, int headDim, float scale)
    {
        int qDim = numHeads * headDim, kvDim = numKvHeads * headDim, group = numHeads / numKvHeads;
        for (int i = 0; i < numQueries; i++)
        {
            int ctx = queryOffset + i + 1;
            var scores = new double[ctx];
            for (int h = 0; h < numHeads; h++)
            {
                int kvh = h / group;
                double max = double.NegativeInfinity;
                for (int j = 0; j < ctx; j++)
                {
                    double s = 0;
                    for (int d = 0; d < headDim; d++) s += (double)q[i * qDim + h * headDim + d] * k[j * kvDim + kvh * headDim + d];
                    scores[j] = s * scale;
                    max = Math.Max(max, scores[j]);
                }
                double sum = 0;
                for (int j = 0; j < ctx; j++) { scores[j] = Math.Exp(scores[j] - max); sum += scores[j]; }
                for (int d = 0; d < headDim; d++)
                {
                    double acc = 0;
                    for (int j = 0; j < ctx; j++) acc += scores[j] * v[j * kvDim + kvh * headDim + d];
                    output[i * qDim + h * headDim + d] = (float)(acc / sum);
                }
            }
        }
    }

    public static void SiluMul(ReadOnlySpan<float> gate, ReadOnlySpan<float> up, Span<float> output)
    {
        for (int i = 0; i < gate.Length; i++)
        {
            double g = gate[i];
            output[i] = (float)(g / (1 + Math.Exp(-g)) * up[i]);
        }
    }
}
