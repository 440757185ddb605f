namespace Inference.Tokenization;

/// <summary>Builds a deterministic BPE vocabulary (alphabet plus ordered merges) for synthetic test tokenizers.</summary>
internal static class SyntheticBpe
{
    // Enough English for the first merges to look like real subwords ("▁the", "ing", ...).
    private const string Corpus =
        "Once upon a time there was a little girl named Lily. She loved to play outside in the park with her friend Ben. " +
        "One day they saw a big red ball under a tree. Ben said, \"Let's play with the ball!\" Lily was happy and they " +
        "played all day long. The sun was shining and the birds were singing in the sky. When it was time to go home, " +
        "Lily gave the ball back to the boy who lost it. He smiled and said thank you. Her mom was proud of her because " +
        "she was kind and helpful. The next morning Lily wanted to go to the park again, but it was raining. She looked " +
        "out of the window and saw a small dog running in the rain. The dog was wet and cold, so Lily asked her mom if " +
        "they could help it. They dried the dog with a soft towel and gave it some warm milk. The dog was very thankful " +
        "and wagged its tail. From that day on, the dog and Lily were the best of friends, and they played together " +
        "every day. Numbers like 1, 2, 3 and 42 or 2024 are written with digits; questions end with a question mark?";

    /// <summary>Returns the single-character alphabet (▁ first) and the merges, so that alphabet + merges have exactly <paramref name="count"/> tokens.</summary>
    public static (List<string> Alphabet, List<(string Left, string Right)> Merges) Build(int count, int seed)
    {
        var alphabet = Corpus.Replace(' ', '▁').Select(c => c.ToString())
            .GroupBy(c => c).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => g.Key).ToList();
        alphabet.Remove("▁");
        alphabet.Insert(0, "▁");
        if (alphabet.Count >= count)
            return (alphabet.GetRange(0, count), []);

        var known = new HashSet<string>(alphabet, StringComparer.Ordinal);
        var merges = new List<(string, string)>();
        Train(count - alphabet.Count, known, merges);
        Fill(count - alphabet.Count, known, merges, seed);
        return (alphabet, merges);
    }

    // Classic BPE training over the corpus words (each word carries the ▁ the normalizer prepends).
    private static void Train(int limit, HashSet<string> known, List<(string, string)> merges)
    {
        var words = Corpus.Split(' ').GroupBy(w => w)
            .Select(g => (Symbols: ("▁" + g.Key).Select(c => c.ToString()).ToList(), Count: g.Count()))
            .ToList();
        while (merges.Count < limit)
        {
            var pairs = new Dictionary<(string, string), int>();
            foreach (var (symbols, count) in words)
            {
                for (int i = 0; i + 1 < symbols.Count; i++)
                    pairs[(symbols[i], symbols[i + 1])] = pairs.GetValueOrDefault((symbols[i], symbols[i + 1])) + count;
            }
            // Ties broken by the pair's text so the result never depends on hash order.
            var best = pairs.Where(p => p.Value >= 2 && !known.Contains(p.Key.Item1 + p.Key.Item2))
                .OrderByDescending(p => p.Value)
                .ThenBy(p => p.Key.Item1 + "\u0001" + p.Key.Item2, StringComparer.Ordinal)
                .Select(p => p.Key).FirstOrDefault();
            if (best == default)
                return;
            merges.Add(best);
            known.Add(best.Item1 + best.Item2);
            foreach (var (symbols, _) in words)
            {
                for (int i = 0; i + 1 < symbols.Count; i++)
                {
                    if (symbols[i] == best.Item1 && symbols[i + 1] == best.Item2)
                    {
                        symbols[i] += symbols[i + 1];
                        symbols.RemoveAt(i + 1);
                    }
                }
            }
        }
    }

    // The corpus runs out of repeated pairs long before 32000 tokens; the rest are seeded random joins of
    // existing tokens, short enough to look like subwords. Every merge's parts exist before the merge itself.
    private static void Fill(int limit, HashSet<string> known, List<(string, string)> merges, int seed)
    {
        var random = new Random(seed);
        var pool = known.Where(t => t != "▁").Order(StringComparer.Ordinal).ToList();
        var wordStarts = pool.Where(t => t.StartsWith('▁')).ToList();
        var inner = pool.Where(t => !t.StartsWith('▁')).ToList();
        wordStarts.Insert(0, "▁");
        while (merges.Count < limit)
        {
            var left = random.Next(3) == 0 ? inner[random.Next(inner.Count)] : wordStarts[random.Next(wordStarts.Count)];
            var right = inner[random.Next(Math.Min(inner.Count, 200))];
            string merged = left + right;
            if (merged.Length > 10 || !known.Add(merged))
                continue;
            merges.Add((left, right));
            (merged.StartsWith('▁') ? wordStarts : inner).Add(merged);
        }
    }
}
