namespace Inference.Kernels.Cpu;

/// <summary>
/// Runs of up to <see cref="Size"/> consecutive query tokens of one sequence, the unit of CPU attention work:
/// the tokens of a tile walk the sequence's KV blocks together, so a block is read (and, for an F16 pool,
/// widened) once per tile instead of once per token. Each token still does its own arithmetic in its own
/// block order, so tiling changes speed, never values.
/// </summary>
internal sealed class QueryTiles
{
    /// <summary>Tokens per tile: a 16-key block of K/V (one head) stays in L1 across them.</summary>
    public const int Size = 8;

    // [Count] (sequence, first token, token count) of each tile.
    private int[] _seq = new int[64], _first = new int[64], _count = new int[64];

    public int Count { get; private set; }

    public int Seq(int tile) => _seq[tile];
    public int First(int tile) => _first[tile];
    public int Tokens(int tile) => _count[tile];

    /// <summary>Splits every sequence's new tokens into tiles, the latest (most expensive) tile first.</summary>
    public void Build(StepMetadata meta)
    {
        int max = 0;
        for (int s = 0; s < meta.NumSeqs; s++)
            max += (meta.QueryStart[s + 1] - meta.QueryStart[s] + Size - 1) / Size;
        if (_seq.Length < max)
        {
            int n = Math.Max(max, _seq.Length * 2);
            _seq = new int[n];
            _first = new int[n];
            _count = new int[n];
        }
        int c = 0;
        for (int s = 0; s < meta.NumSeqs; s++)
        {
            int start = meta.QueryStart[s], end = meta.QueryStart[s + 1];
            // Causal: later tokens attend to more blocks; handing them out first balances the threads.
            for (int last = end; last > start; last -= Size)
            {
                int first = Math.Max(start, last - Size);
                _seq[c] = s;
                _first[c] = first;
                _count[c] = last - first;
                c++;
            }
        }
        Count = c;
    }
}
