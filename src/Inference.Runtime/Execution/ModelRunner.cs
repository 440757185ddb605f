using Inference.Kernels;
using Inference.Models;

namespace Inference.Execution;

/// <summary>
/// Packs the sequences of one step into a flat ragged batch (token ids, positions, KV slots, block tables),
/// runs the model and hands back the logits of the sequences that sample.
/// </summary>
public sealed class ModelRunner : IDisposable
{
    private readonly LlamaModel _model;
    private readonly StepMetadata _meta;
    private float[] _logits;
    private readonly int[] _greedy;
    private readonly float[] _greedyLogits;

    public LlamaModel Model => _model;
    public IKvCache KvCache { get; }
    public int BlockSize { get; }
    public int NumBlocks { get; }
    public int VocabSize => _model.Config.VocabSize;

    public ModelRunner(LlamaModel model, int numBlocks, int blockSize, KvCacheDType kvDType = KvCacheDType.F32)
    {
        _model = model;
        BlockSize = blockSize;
        NumBlocks = numBlocks;
        KvCache = model.AllocateKvCache(numBlocks, blockSize, kvDType);
        int maxBlocksPerSeq = (model.Config.MaxPositionEmbeddings + blockSize - 1) / blockSize + 1;
        _meta = new StepMetadata(model.MaxTokens, model.MaxSeqs, maxBlocksPerSeq);
        _logits = new float[model.MaxSeqs * model.Config.VocabSize];
        _greedy = new int[model.MaxSeqs];
        _greedyLogits = new float[model.MaxSeqs];
    }

    public void BeginBatch()
    {
        _meta.NumTokens = 0;
        _meta.NumSeqs = 0;
        _meta.NumSample = 0;
        _meta.QueryStart[0] = 0;
    }

    /// <summary>
    /// Adds one sequence's chunk: tokens at positions [start, start + tokens.Length), K/V slots from its
    /// block table. Returns the logits row index when <paramref name="sample"/>, else -1.
    /// </summary>
    public int AddSequence(ReadOnlySpan<int> tokens, int start, IReadOnlyList<int> blockTable, bool sample)
    {
        var m = _meta;
        int n = tokens.Length;
        int seqLen = start + n;
        int blocksNeeded = (seqLen + BlockSize - 1) / BlockSize;
        if (blockTable.Count < blocksNeeded)
            throw new InvalidOperationException($"block table has {blockTable.Count} blocks; {seqLen} tokens need {blocksNeeded}");
        if (m.NumTokens + n > _model.MaxTokens)
            throw new InvalidOperationException($"step would have {m.NumTokens + n} tokens; the model was sized for {_model.MaxTokens}");
        if (m.NumSeqs + 1 > _model.MaxSeqs)
            throw new InvalidOperationException($"step would have {m.NumSeqs + 1} sequences; the model was sized for {_model.MaxSeqs}");
        if (blocksNeeded > m.MaxBlocksPerSeq)
            throw new InvalidOperationException($"{seqLen} tokens exceed the longest sequence this runner was sized for");
        int s = m.NumSeqs;
        for (int i = 0; i < n; i++)
        {
            int pos = start + i;
            int row = m.NumTokens + i;
            m.TokenIds[row] = tokens[i];
            m.Positions[row] = pos;
            m.SlotMapping[row] = blockTable[pos / BlockSize] * BlockSize + pos % BlockSize;
        }
        int tb = s * m.MaxBlocksPerSeq;
        for (int b = 0; b < blocksNeeded; b++) m.BlockTables[tb + b] = blockTable[b];
        m.SeqLens[s] = seqLen;
        m.NumTokens += n;
        m.NumSeqs = s + 1;
        m.QueryStart[s + 1] = m.NumTokens;
        if (!sample) return -1;
        m.SampleRows[m.NumSample] = m.NumTokens - 1;
        return m.NumSample++;
    }

    public int NumTokens => _meta.NumTokens;

    /// <summary>Runs the step; row i of the result holds the logits of the i-th sampling sequence.</summary>
    public ReadOnlySpan<float> Execute()
    {
        int v = _model.Config.VocabSize;
        if (_logits.Length < _meta.NumSample * v) _logits = new float[_meta.NumSample * v];
        _model.Forward(_meta, KvCache, _logits);
        return _logits.AsSpan(0, _meta.NumSample * v);
    }

    /// <summary>
    /// Runs the step for sequences that all decode greedily: entry i is the argmax of the i-th sampling sequence's
    /// raw logits, the token <see cref="Sampler"/> picks for a plain greedy request. The logits stay on the backend.
    /// </summary>
    public ReadOnlySpan<int> ExecuteArgMax()
    {
        int s = _meta.NumSample;
        _model.ForwardArgMax(_meta, KvCache, _greedy.AsSpan(0, s), _greedyLogits.AsSpan(0, s));
        return _greedy.AsSpan(0, s);
    }

    public void Dispose()
    {
        KvCache.Dispose();
        _model.Dispose();
    }
}
