using Inference.Kernels;
using Inference.Models;

namespace Inference.Execution;

/// <summary>Teacher-forced scores of a token stream: perplexity and the argmax prediction at each position.</summary>
public sealed record PerplexityResult(double Perplexity, double MeanNll, int Predicted, int[] Argmax)
{
    /// <summary>Share of positions where both runs predict the same next token.</summary>
    public double Agreement(PerplexityResult other)
    {
        int n = Math.Min(Argmax.Length, other.Argmax.Length), same = 0;
        for (int i = 0; i < n; i++) if (Argmax[i] == other.Argmax[i]) same++;
        return n == 0 ? 1.0 : (double)same / n;
    }
}

/// <summary>
/// Runs text through the model in independent chunks of at most the context length (each from position 0),
/// every position sampling logits, and scores each next token.
/// </summary>
public static class Perplexity
{
    public static PerplexityResult Evaluate(IComputeBackend backend, LlamaWeights weights, ReadOnlySpan<int> tokens, int chunk)
    {
        if (chunk < 2) throw new ArgumentOutOfRangeException(nameof(chunk), "chunks need at least two tokens");
        const int blockSize = 16;
        int blocks = (chunk + blockSize - 1) / blockSize;
        using var model = new LlamaModel(backend, weights, chunk, chunk);
        using var cache = model.AllocateKvCache(blocks + 1, blockSize);
        var meta = new StepMetadata(chunk, chunk, blocks);
        int vocab = weights.Config.VocabSize;
        var logits = new float[chunk * vocab];
        var argmax = new List<int>();
        double nll = 0;
        for (int c0 = 0; c0 + 1 < tokens.Length; c0 += chunk)
        {
            int n = Math.Min(chunk, tokens.Length - c0);
            if (n < 2) break;
            meta.NumTokens = n;
            meta.NumSeqs = 1;
            meta.QueryStart[0] = 0;
            meta.QueryStart[1] = n;
            meta.SeqLens[0] = n;
            for (int b = 0; b < blocks; b++) meta.BlockTables[b] = b + 1;
            for (int i = 0; i < n; i++)
            {
                meta.TokenIds[i] = tokens[c0 + i];
                meta.Positions[i] = i;
                meta.SlotMapping[i] = (i / blockSize + 1) * blockSize + i % blockSize;
                meta.SampleRows[i] = i;
            }
            meta.NumSample = n;
            model.Forward(meta, cache, logits);
            for (int i = 0; i + 1 < n; i++)
            {
                var row = logits.AsSpan(i * vocab, vocab);
                int best = System.Numerics.Tensors.TensorPrimitives.IndexOfMax(row);
                float max = row[best];
                double sum = 0;
                foreach (float v in row) sum += Math.Exp(v - max);
                nll += Math.Log(sum) + max - row[tokens[c0 + i + 1]];
                argmax.Add(best);
            }
        }
        int count = argmax.Count;
        double mean = count == 0 ? 0 : nll / count;
        return new PerplexityResult(Math.Exp(mean), mean, count, argmax.ToArray());
    }
}
