namespace Inference.Kernels;

/// <summary>
/// Host-side description of one forward step over a ragged batch: flat tokens of several sequences
/// (prefill chunks and decodes mixed), where their K/V go, and how to find each sequence's cached K/V.
/// Buffers are reused across steps; only the first NumTokens / NumSeqs entries are meaningful.
/// </summary>
public sealed class StepMetadata
{
    public int NumTokens;
    public int NumSeqs;
    public int MaxBlocksPerSeq;
    /// <summary>[NumTokens]</summary>
    public int[] TokenIds;
    /// <summary>[NumTokens] absolute position of each token in its sequence.</summary>
    public int[] Positions;
    /// <summary>[NumTokens] KV slot (block * blockSize + offset) each token's K/V is written to.</summary>
    public int[] SlotMapping;
    /// <summary>[NumSeqs + 1] first token row of each sequence in the flat batch.</summary>
    public int[] QueryStart;
    /// <summary>[NumSeqs] context length after this step (cached tokens + new tokens).</summary>
    public int[] SeqLens;
    /// <summary>[NumSeqs * MaxBlocksPerSeq] block table of each sequence.</summary>
    public int[] BlockTables;
    /// <summary>[NumSample] rows whose logits are wanted (usually the last token of a sequence).</summary>
    public int[] SampleRows;
    public int NumSample;

    public StepMetadata(int maxTokens, int maxSeqs, int maxBlocksPerSeq)
    {
        TokenIds = new int[maxTokens];
        Positions = new int[maxTokens];
        SlotMapping = new int[maxTokens];
        QueryStart = new int[maxSeqs + 1];
        SeqLens = new int[maxSeqs];
        BlockTables = new int[maxSeqs * maxBlocksPerSeq];
        SampleRows = new int[maxSeqs];
        MaxBlocksPerSeq = maxBlocksPerSeq;
    }

    public int Capacity => TokenIds.Length;
    public int SeqCapacity => SeqLens.Length;

    /// <summary>Grows the buffers (dropping contents) when a step needs more room.</summary>
    public void EnsureCapacity(int maxTokens, int maxSeqs, int maxBlocksPerSeq)
    {
        if (maxTokens > TokenIds.Length)
        {
            TokenIds = new int[maxTokens];
            Positions = new int[maxTokens];
            SlotMapping = new int[maxTokens];
        }
        if (maxSeqs > SeqLens.Length || maxSeqs * maxBlocksPerSeq > BlockTables.Length)
        {
            QueryStart = new int[maxSeqs + 1];
            SeqLens = new int[maxSeqs];
            SampleRows = new int[maxSeqs];
            BlockTables = new int[maxSeqs * Math.Max(maxBlocksPerSeq, MaxBlocksPerSeq)];
        }
        MaxBlocksPerSeq = Math.Max(MaxBlocksPerSeq, maxBlocksPerSeq);
    }

    /// <summary>Checks internal consistency; backends call this before trusting the indices.</summary>
    public void Validate(int numSlots, int vocabSize)
    {
        if (NumTokens < 0 || NumTokens > TokenIds.Length) throw new ArgumentException($"NumTokens {NumTokens} out of range");
        if (NumSeqs < 0 || NumSeqs > SeqLens.Length) throw new ArgumentException($"NumSeqs {NumSeqs} out of range");
        if (QueryStart[0] != 0 || QueryStart[NumSeqs] != NumTokens) throw new ArgumentException("QueryStart must run from 0 to NumTokens");
        for (int t = 0; t < NumTokens; t++)
        {
            if ((uint)TokenIds[t] >= (uint)vocabSize) throw new ArgumentException($"token id {TokenIds[t]} outside vocabulary of {vocabSize}");
            if ((uint)SlotMapping[t] >= (uint)numSlots) throw new ArgumentException($"slot {SlotMapping[t]} outside KV pool of {numSlots}");
        }
        for (int s = 0; s < NumSeqs; s++)
        {
            int q = QueryStart[s + 1] - QueryStart[s];
            if (q < 0 || q > SeqLens[s]) throw new ArgumentException($"sequence {s}: {q} new tokens but context {SeqLens[s]}");
        }
    }
}
