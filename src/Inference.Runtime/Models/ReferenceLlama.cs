using Inference.Kernels;
using Inference.Kernels.Reference;

namespace Inference.Models;

/// <summary>
/// The scalar oracle: the whole forward pass of one sequence with contiguous K/V and textbook softmax,
/// in the style of llama2.c's run.c. Slow and simple on purpose; tests compare every backend to it.
/// </summary>
public static class ReferenceLlama
{
    /// <summary>Logits for every position of <paramref name="tokens"/>: [tokens.Length, VocabSize].</summary>
    public static float[] Forward(LlamaWeights w, ReadOnlySpan<int> tokens)
    {
        var c = w.Config;
        int n = tokens.Length, h = c.HiddenSize, qd = c.QDim, kvd = c.KvDim, ff = c.IntermediateSize;
        var x = new float[n * h];
        var row = new float[Math.Max(h, c.VocabSize)];
        for (int t = 0; t < n; t++)
        {
            w.Embedding.ReadRow(tokens[t], row);
            Array.Copy(row, 0, x, t * h, h);
        }
        var rope = RopeOf(c);
        var xn = new float[n * h];
        var q = new float[n * qd];
        var k = new float[n * kvd];
        var v = new float[n * kvd];
        var att = new float[n * qd];
        var tmp = new float[n * h];
        var g = new float[n * ff];
        var u = new float[n * ff];
        foreach (var l in w.Layers)
        {
            ReferenceOps.RmsNorm(x, Dense(l.InputNorm), c.RmsNormEps, xn, n, h);
            ReferenceOps.MatMul(xn, Dense(l.Q), Opt(l.QBias), q, n, h, qd);
            ReferenceOps.MatMul(xn, Dense(l.K), Opt(l.KBias), k, n, h, kvd);
            ReferenceOps.MatMul(xn, Dense(l.V), Opt(l.VBias), v, n, h, kvd);
            for (int t = 0; t < n; t++)
            {
                ReferenceOps.Rope(q.AsSpan(t * qd, qd), c.NumHeads, c.HeadDim, rope.InvFreq, t);
                ReferenceOps.Rope(k.AsSpan(t * kvd, kvd), c.NumKvHeads, c.HeadDim, rope.InvFreq, t);
            }
            ReferenceOps.CausalAttention(q, k, v, att, n, 0, c.NumHeads, c.NumKvHeads, c.HeadDim, 1f / MathF.Sqrt(c.HeadDim));
            ReferenceOps.MatMul(att, Dense(l.O), default, tmp, n, qd, h);
            for (int i = 0; i < x.Length; i++) x[i] += tmp[i];
            ReferenceOps.RmsNorm(x, Dense(l.PostAttentionNorm), c.RmsNormEps, xn, n, h);
            ReferenceOps.MatMul(xn, Dense(l.Gate), default, g, n, h, ff);
            ReferenceOps.MatMul(xn, Dense(l.Up), default, u, n, h, ff);
            ReferenceOps.SiluMul(g, u, g);
            ReferenceOps.MatMul(g, Dense(l.Down), default, tmp, n, ff, h);
            for (int i = 0; i < x.Length; i++) x[i] += tmp[i];
        }
        ReferenceOps.RmsNorm(x, Dense(w.FinalNorm), c.RmsNormEps, xn, n, h);
        var logits = new float[n * c.VocabSize];
        ReferenceOps.MatMul(xn, Dense(w.LmHead), default, logits, n, h, c.VocabSize);
        return logits;
    }

    public static RopeTable RopeOf(ModelConfig c)
    {
        var rs = c.RopeScaling;
        return new RopeTable(c.HeadDim, c.RopeTheta, rs?.Type, rs?.Factor ?? 1f, rs?.LowFreqFactor ?? 1f, rs?.HighFreqFactor ?? 4f, rs?.OriginalMaxPositionEmbeddings ?? 8192);
    }

    /// <summary>The whole matrix widened to F32 (dequantized for quantized formats).</summary>
    public static float[] Dense(HostWeight w)
    {
        var all = new float[w.ElementCount];
        for (int r = 0; r < w.Rows; r++) w.ReadRow(r, all.AsSpan(r * w.Cols, w.Cols));
        return all;
    }

    private static ReadOnlySpan<float> Opt(HostWeight? w) => w is null ? default : Dense(w);
}
