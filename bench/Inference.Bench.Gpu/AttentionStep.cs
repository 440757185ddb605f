using Inference.Kernels;

namespace Inference.Bench.Gpu;

/// <summary>Builds ragged attention steps over shuffled (non-contiguous) blocks.</summary>
public static class AttentionStep
{
    /// <summary>Sequence s has <c>counts[s]</c> new tokens starting at position <c>starts[s]</c>.</summary>
    public static StepMetadata Build(KvCacheShape kv, int[] starts, int[] counts, int seed)
    {
        int bs = kv.BlockSize;
        int maxBlocks = 0;
        for (int s = 0; s < starts.Length; s++) maxBlocks = Math.Max(maxBlocks, (starts[s] + counts[s] + bs - 1) / bs);
        int tokens = counts.Sum();
        var m = new StepMetadata(tokens, starts.Length, maxBlocks) { NumTokens = tokens, NumSeqs = starts.Length };
        var blocks = Enumerable.Range(0, kv.NumBlocks).ToArray();
        new Random(seed).Shuffle(blocks);
        int next = 0, row = 0;
        for (int s = 0; s < starts.Length; s++)
        {
            int ctx = starts[s] + counts[s];
            for (int b = 0; b < (ctx + bs - 1) / bs; b++) m.BlockTables[s * maxBlocks + b] = blocks[next++];
            for (int i = 0; i < counts[s]; i++, row++)
            {
                int pos = starts[s] + i;
                m.Positions[row] = pos;
                m.SlotMapping[row] = m.BlockTables[s * maxBlocks + pos / bs] * bs + pos % bs;
            }
            m.SeqLens[s] = ctx;
            m.QueryStart[s + 1] = row;
        }
        return m;
    }
}
