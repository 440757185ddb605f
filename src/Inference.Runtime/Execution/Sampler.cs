using System.Numerics.Tensors;
using Inference.Sampling;

namespace Inference.Execution;

/// <summary>
/// Turns one row of logits into a token: logit bias, repetition / presence / frequency penalties, then
/// greedy argmax or temperature, top-k, top-p and min-p sampling with the request's own generator.
/// Logprobs are those of the model's raw distribution (vLLM's default "raw_logprobs").
/// </summary>
public sealed class Sampler
{
    // Scratch reused across calls; a Sampler is used by one thread (the engine loop).
    private float[] _work = [];
    private int[] _index = [];
    private int[] _counts = [];
    private float[] _keys = [];

    /// <summary>
    /// True when <see cref="Sample"/> would return the argmax of the raw logits and nothing else: greedy, no logprobs,
    /// no logit bias, no penalties, min_tokens met. Such a row can take the backend's ArgMax and skip the logits copy.
    /// </summary>
    public static bool IsPlainGreedy(SamplingParams p, int numOutputTokens) =>
        p.IsGreedy && p.Logprobs is null && (p.LogitBias is null || p.LogitBias.Count == 0)
        && p.RepetitionPenalty == 1f && p.FrequencyPenalty == 0f && p.PresencePenalty == 0f
        && numOutputTokens >= p.MinTokens;

    /// <summary>Samples the next token. <paramref name="logits"/> is left untouched.</summary>
    /// <param name="eosTokenIds">The model's EOS ids: with stop_token_ids, they cannot be drawn before min_tokens (unless ignore_eos).</param>
    public int Sample(ReadOnlySpan<float> logits, SamplingParams p, IReadOnlyList<int> promptIds, IReadOnlyList<int> outputIds,
        SeededRandom rng, out TokenLogprobs? logprobs, IReadOnlyList<int>? eosTokenIds = null)
    {
        int v = logits.Length;
        if (_work.Length < v)
        {
            _work = new float[v];
            _index = new int[v];
            _counts = new int[v];
            _keys = new float[v];
        }
        Span<float> x = _work.AsSpan(0, v);
        logits.CopyTo(x);
        ApplyBiasAndPenalties(x, p, promptIds, outputIds);
        if (outputIds.Count < p.MinTokens)
        {
            // As vLLM's min_tokens: a token that would stop the sequence is not drawn before min_tokens are out.
            BlockTokens(x, p.StopTokenIds);
            if (!p.IgnoreEos && eosTokenIds is not null) BlockTokens(x, eosTokenIds);
        }

        int token;
        if (p.IsGreedy)
        {
            token = TensorPrimitives.IndexOfMax(x);
        }
        else
        {
            token = SampleFiltered(x, p, rng.NextDouble());
        }
        logprobs = p.Logprobs is { } n ? ComputeLogprobs(logits, token, n) : null;
        return token;
    }

    private static void BlockTokens(Span<float> x, IReadOnlyList<int> ids)
    {
        for (int i = 0; i < ids.Count; i++)
            if ((uint)ids[i] < (uint)x.Length) x[ids[i]] = float.NegativeInfinity;
    }

    private void ApplyBiasAndPenalties(Span<float> x, SamplingParams p, IReadOnlyList<int> promptIds, IReadOnlyList<int> outputIds)
    {
        int v = x.Length;
        if (p.LogitBias is { } bias)
            foreach (var (id, b) in bias)
                if ((uint)id < (uint)v) x[id] += b;

        bool rep = p.RepetitionPenalty != 1f;
        bool freq = p.FrequencyPenalty != 0f || p.PresencePenalty != 0f;
        if (!rep && !freq) return;
        Span<int> counts = _counts.AsSpan(0, v);
        counts.Clear();
        for (int i = 0; i < outputIds.Count; i++) if ((uint)outputIds[i] < (uint)v) counts[outputIds[i]]++;
        if (rep)
        {
            // Repetition penalty (CTRL / HF) covers prompt and output tokens; each distinct token once.
            float r = p.RepetitionPenalty;
            Span<bool> seen = v <= 65536 ? stackalloc bool[v] : new bool[v];
            for (int i = 0; i < promptIds.Count; i++) if ((uint)promptIds[i] < (uint)v) seen[promptIds[i]] = true;
            for (int i = 0; i < v; i++)
                if (seen[i] || counts[i] > 0)
                    x[i] = x[i] > 0 ? x[i] / r : x[i] * r;
        }
        if (freq)
        {
            for (int i = 0; i < v; i++)
                if (counts[i] > 0)
                    x[i] -= p.FrequencyPenalty * counts[i] + p.PresencePenalty;
        }
    }

    private int SampleFiltered(Span<float> x, SamplingParams p, double u)
    {
        int v = x.Length;
        float invT = 1f / p.Temperature;
        TensorPrimitives.Multiply(x, invT, x);

        Span<int> idx = _index.AsSpan(0, v);
        int k = p.TopK > 0 ? Math.Min(p.TopK, v) : v;
        bool filtered = k < v || p.TopP < 1f || p.MinP > 0f;
        if (!filtered)
            return SampleUnsorted(x, u);
        // Sort candidates by logit, descending (primitive-key sort: no delegate per compare).
        Span<float> keys = _keys.AsSpan(0, v);
        for (int i = 0; i < v; i++) { idx[i] = i; keys[i] = -x[i]; }
        keys.Sort(idx);

        // Softmax over the top-k candidates.
        float max = x[idx[0]];
        double sum = 0;
        Span<double> probs = k <= 4096 ? stackalloc double[k] : new double[k];
        for (int i = 0; i < k; i++) { probs[i] = Math.Exp(x[idx[i]] - max); sum += probs[i]; }
        for (int i = 0; i < k; i++) probs[i] /= sum;

        int keep = k;
        if (p.TopP < 1f)
        {
            double cum = 0;
            for (int i = 0; i < k; i++)
            {
                cum += probs[i];
                if (cum >= p.TopP) { keep = i + 1; break; }
            }
        }
        if (p.MinP > 0f)
        {
            double threshold = probs[0] * p.MinP;
            int m = 1;
            while (m < keep && probs[m] >= threshold) m++;
            keep = m;
        }
        double total = 0;
        for (int i = 0; i < keep; i++) total += probs[i];
        double target = u * total;
        double acc = 0;
        for (int i = 0; i < keep; i++)
        {
            acc += probs[i];
            if (target < acc) return idx[i];
        }
        return idx[keep - 1];
    }

    /// <summary>Plain temperature sampling: walk the distribution in token-id order.</summary>
    private static int SampleUnsorted(ReadOnlySpan<float> x, double u)
    {
        float max = TensorPrimitives.Max(x);
        double sum = 0;
        for (int i = 0; i < x.Length; i++) sum += Math.Exp(x[i] - max);
        double target = u * sum;
        double acc = 0;
        for (int i = 0; i < x.Length; i++)
        {
            acc += Math.Exp(x[i] - max);
            if (target < acc) return i;
        }
        return TensorPrimitives.IndexOfMax(x);
    }

    private TokenLogprobs ComputeLogprobs(ReadOnlySpan<float> logits, int token, int topN)
    {
        int v = logits.Length;
        float max = TensorPrimitives.Max(logits);
        double sum = 0;
        for (int i = 0; i < v; i++) sum += Math.Exp(logits[i] - max);
        float logZ = max + (float)Math.Log(sum);
        float chosen = logits[token] - logZ;
        int rank = 1;
        for (int i = 0; i < v; i++)
            if (logits[i] > logits[token] || (logits[i] == logits[token] && i < token)) rank++;
        var top = new List<(int, float)>(topN);
        if (topN > 0)
        {
            // Partial selection: topN is small (<= 20).
            Span<int> best = stackalloc int[topN];
            int count = 0;
            for (int i = 0; i < v; i++)
            {
                if (count < topN) { best[count++] = i; Bubble(best, count, logits); continue; }
                if (logits[i] > logits[best[count - 1]]) { best[count - 1] = i; Bubble(best, count, logits); }
            }
            for (int i = 0; i < count; i++) top.Add((best[i], logits[best[i]] - logZ));
        }
        return new TokenLogprobs(token, chosen, rank, top);
    }

    private static void Bubble(Span<int> best, int count, ReadOnlySpan<float> logits)
    {
        for (int j = count - 1; j > 0 && logits[best[j]] > logits[best[j - 1]]; j--)
            (best[j], best[j - 1]) = (best[j - 1], best[j]);
    }
}
