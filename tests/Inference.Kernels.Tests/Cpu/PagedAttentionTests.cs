using Inference.Kernels;
using Inference.Kernels.Cpu;
using Inference.Kernels.Reference;

namespace Inference.Tests.Cpu;

public sealed unsafe class PagedAttentionTests : IDisposable
{
    private readonly CpuBackend _b = new(threads: 2);

    public void Dispose() => _b.Dispose();

    /// <summary>
    /// Several sequences in one ragged step (a prefill from 0, a chunk continuing a cached prefix, decodes),
    /// each with a shuffled, non-contiguous block table; every query row must match the contiguous reference.
    /// </summary>
    /// <summary>(heads, kv heads, head size, block size): GQA 1-8, head sizes on and off the 16-lane path, blocks under, at and over 16 keys.</summary>
    public static TheoryData<int, int, int, int> MixedShapes => new()
    {
        { 4, 4, 8, 4 }, { 8, 4, 16, 16 }, { 8, 1, 64, 16 }, { 16, 2, 128, 5 },
        { 6, 3, 24, 7 }, { 12, 12, 64, 16 }, { 8, 2, 128, 32 }, { 4, 4, 16, 20 },
    };

    [Theory]
    [MemberData(nameof(MixedShapes))]
    public void MixedBatchMatchesReference(int heads, int kvHeads, int headDim, int blockSize) =>
        MixedBatch(heads, kvHeads, headDim, blockSize, KvCacheDType.F32);

    /// <summary>F16 pool: the reference is fed the F16-rounded K/V, so only the widening is under test.</summary>
    [Theory]
    [MemberData(nameof(MixedShapes))]
    public void MixedBatchMatchesReferenceF16(int heads, int kvHeads, int headDim, int blockSize) =>
        MixedBatch(heads, kvHeads, headDim, blockSize, KvCacheDType.F16);

    /// <summary>BF16 pool: the reference gets the BF16-rounded K/V (the 16-key path reads the pool in place).</summary>
    [Theory]
    [MemberData(nameof(MixedShapes))]
    public void MixedBatchMatchesReferenceBF16(int heads, int kvHeads, int headDim, int blockSize) =>
        MixedBatch(heads, kvHeads, headDim, blockSize, KvCacheDType.BF16);

    private static float[] RoundToHalf(float[] x) => x.Select(f => (float)(Half)f).ToArray();

    private static float[] RoundToBf16(float[] x) => x.Select(f => BFloat16Bits.ToSingle(BFloat16Bits.FromSingle(f))).ToArray();

    private static float[] Rounded(float[] x, KvCacheDType dtype) => dtype switch
    {
        KvCacheDType.F16 => RoundToHalf(x),
        KvCacheDType.BF16 => RoundToBf16(x),
        _ => x,
    };

    /// <summary>Writes one token's K and V row into a slot, converting for an F16 pool as StoreKv does.</summary>
    private static void WriteSlot(CpuKvCache cache, long slot, ReadOnlySpan<float> k, ReadOnlySpan<float> v)
    {
        int kvDim = k.Length;
        if (cache.IsBF16)
        {
            for (int i = 0; i < kvDim; i++)
            {
                cache.KBf16(0)[slot * kvDim + i] = BFloat16Bits.FromSingle(k[i]);
                cache.VBf16(0)[slot * kvDim + i] = BFloat16Bits.FromSingle(v[i]);
            }
            return;
        }
        if (cache.IsF16)
        {
            for (int i = 0; i < kvDim; i++)
            {
                cache.KHalf(0)[slot * kvDim + i] = (Half)k[i];
                cache.VHalf(0)[slot * kvDim + i] = (Half)v[i];
            }
            return;
        }
        k.CopyTo(new Span<float>(cache.K(0) + slot * kvDim, kvDim));
        v.CopyTo(new Span<float>(cache.V(0) + slot * kvDim, kvDim));
    }

    private void MixedBatch(int heads, int kvHeads, int headDim, int blockSize, KvCacheDType dtype)
    {
        // (cached tokens before this step, new tokens this step) per sequence.
        (int Cached, int New)[] seqs = [(0, 19), (23, 7), (40, 1), (0, 1), (5, 1)];
        int kvDim = kvHeads * headDim, qDim = heads * headDim;
        int totalBlocks = 1 + seqs.Sum(s => (s.Cached + s.New + blockSize - 1) / blockSize);
        var shape = new KvCacheShape(1, totalBlocks, blockSize, kvHeads, headDim, dtype);
        using var cache = (CpuKvCache)_b.AllocateKvCache(shape);
        var rng = new Random(42);
        var freeBlocks = Enumerable.Range(1, totalBlocks - 1).OrderBy(_ => rng.Next()).ToList();

        int numTokens = seqs.Sum(s => s.New);
        var meta = new StepMetadata(numTokens, seqs.Length, 16) { NumTokens = numTokens, NumSeqs = seqs.Length };
        var allK = new List<float[]>();
        var allV = new List<float[]>();
        var q = TestData.Random(numTokens * qDim, 7);
        int row = 0;
        for (int s = 0; s < seqs.Length; s++)
        {
            int len = seqs[s].Cached + seqs[s].New;
            int nb = (len + blockSize - 1) / blockSize;
            var table = freeBlocks.GetRange(0, nb);
            freeBlocks.RemoveRange(0, nb);
            for (int b = 0; b < nb; b++) meta.BlockTables[s * meta.MaxBlocksPerSeq + b] = table[b];
            var k = TestData.Random(len * kvDim, 100 + s);
            var v = TestData.Random(len * kvDim, 200 + s);
            allK.Add(k);
            allV.Add(v);
            // Cached tokens go straight into the pool; new ones are written by StoreKv like the model does.
            for (int p = 0; p < len; p++)
            {
                long slot = table[p / blockSize] * blockSize + p % blockSize;
                if (p < seqs[s].Cached)
                    WriteSlot(cache, slot, k.AsSpan(p * kvDim, kvDim), v.AsSpan(p * kvDim, kvDim));
                else
                {
                    meta.TokenIds[row] = 0;
                    meta.Positions[row] = p;
                    meta.SlotMapping[row] = (int)slot;
                    row++;
                }
            }
            meta.QueryStart[s + 1] = row;
            meta.SeqLens[s] = len;
        }
        using var ka = (CpuActivation)_b.Allocate(numTokens, kvDim);
        using var va = (CpuActivation)_b.Allocate(numTokens, kvDim);
        using var qa = (CpuActivation)_b.Allocate(numTokens, qDim);
        using var oa = (CpuActivation)_b.Allocate(numTokens, qDim);
        row = 0;
        for (int s = 0; s < seqs.Length; s++)
            for (int p = seqs[s].Cached; p < seqs[s].Cached + seqs[s].New; p++, row++)
            {
                allK[s].AsSpan(p * kvDim, kvDim).CopyTo(ka.RowSpan(row));
                allV[s].AsSpan(p * kvDim, kvDim).CopyTo(va.RowSpan(row));
            }
        q.AsSpan().CopyTo(new Span<float>(qa.Data, numTokens * qDim));

        _b.BeginStep(meta);
        _b.StoreKv(ka, va, cache, 0, numTokens);
        float scale = 1f / MathF.Sqrt(headDim);
        _b.Attention(qa, cache, 0, new AttentionShape(heads, kvHeads, headDim, scale), oa);

        row = 0;
        for (int s = 0; s < seqs.Length; s++)
        {
            int n = seqs[s].New;
            var expected = new float[n * qDim];
            var refK = Rounded(allK[s], dtype);
            var refV = Rounded(allV[s], dtype);
            ReferenceOps.CausalAttention(q.AsSpan(row * qDim, n * qDim), refK, refV, expected, n, seqs[s].Cached, heads, kvHeads, headDim, scale);
            var actual = new ReadOnlySpan<float>(oa.Row(row), n * qDim);
            TestData.AssertClose(actual, expected, 1e-5, $"sequence {s}");
            row += n;
        }
    }

    /// <summary>
    /// A query's output must be bit-identical whether its step has one token (heads split across jobs)
    /// or many (all heads of a token in one job).
    /// </summary>
    [Theory]
    [InlineData(12, 12, 64, 16)]
    [InlineData(6, 3, 24, 7)]
    [InlineData(8, 2, 40, 5)]
    [InlineData(8, 2, 128, 32)]
    [InlineData(4, 4, 16, 20)]
    public void OutputDoesNotDependOnBatch(int heads, int kvHeads, int headDim, int blockSize) =>
        BatchInvariance(heads, kvHeads, headDim, blockSize, KvCacheDType.F32);

    [Theory]
    [InlineData(12, 12, 64, 16)]
    [InlineData(6, 3, 24, 7)]
    [InlineData(8, 2, 40, 5)]
    [InlineData(5, 5, 12, 5)]
    [InlineData(4, 4, 16, 20)]
    public void OutputDoesNotDependOnBatchF16(int heads, int kvHeads, int headDim, int blockSize) =>
        BatchInvariance(heads, kvHeads, headDim, blockSize, KvCacheDType.F16);

    [Theory]
    [InlineData(12, 12, 64, 16)]
    [InlineData(6, 3, 24, 7)]
    [InlineData(8, 2, 128, 32)]
    [InlineData(4, 4, 16, 20)]
    public void OutputDoesNotDependOnBatchBF16(int heads, int kvHeads, int headDim, int blockSize) =>
        BatchInvariance(heads, kvHeads, headDim, blockSize, KvCacheDType.BF16);

    /// <summary>
    /// A 16-bit pool must give exactly what an F32 pool holding the same (rounded) values gives: widening is
    /// exact and the arithmetic after it the same, whether the BF16 rows are read in place (16-key path) or
    /// widened into scratch first (F16; BF16 on other head sizes).
    /// </summary>
    [Theory]
    [InlineData(KvCacheDType.BF16, 12, 12, 64, 16)]
    [InlineData(KvCacheDType.BF16, 8, 2, 128, 32)]
    [InlineData(KvCacheDType.BF16, 6, 3, 24, 7)]
    [InlineData(KvCacheDType.F16, 12, 12, 64, 16)]
    [InlineData(KvCacheDType.F16, 6, 3, 24, 7)]
    public void NarrowPoolEqualsF32PoolOfTheSameValues(KvCacheDType dtype, int heads, int kvHeads, int headDim, int blockSize)
    {
        const int len = 45;
        int kvDim = kvHeads * headDim, qDim = heads * headDim;
        int nb = (len + blockSize - 1) / blockSize;
        using var narrow = (CpuKvCache)_b.AllocateKvCache(new KvCacheShape(1, nb + 1, blockSize, kvHeads, headDim, dtype));
        using var wide = (CpuKvCache)_b.AllocateKvCache(new KvCacheShape(1, nb + 1, blockSize, kvHeads, headDim));
        var k = Rounded(TestData.Random(len * kvDim, 31, 4f), dtype);
        var v = Rounded(TestData.Random(len * kvDim, 32, 4f), dtype);
        var table = Enumerable.Range(1, nb).Reverse().ToArray();
        Fill(narrow, table, k, v, len);
        Fill(wide, table, k, v, len);
        // Queries at every position: prefill tiles and the decode-like last row.
        var q = TestData.Random(len * qDim, 33);
        var meta = OneSequence(table, 0, len);
        using var qa = (CpuActivation)_b.Allocate(len, qDim);
        using var oNarrow = (CpuActivation)_b.Allocate(len, qDim);
        using var oWide = (CpuActivation)_b.Allocate(len, qDim);
        q.AsSpan().CopyTo(new Span<float>(qa.Data, len * qDim));
        var shape = new AttentionShape(heads, kvHeads, headDim, 1f / MathF.Sqrt(headDim));
        _b.BeginStep(meta);
        _b.Attention(qa, narrow, 0, shape, oNarrow);
        _b.Attention(qa, wide, 0, shape, oWide);
        for (int r = 0; r < len; r++)
            Assert.True(oNarrow.RowSpan(r).SequenceEqual(oWide.RowSpan(r)), $"{dtype}: row {r} differs from the F32 pool");
    }

    private void BatchInvariance(int heads, int kvHeads, int headDim, int blockSize, KvCacheDType dtype)
    {
        const int len = 53, first = 20;
        int kvDim = kvHeads * headDim, qDim = heads * headDim;
        int nb = (len + blockSize - 1) / blockSize;
        using var cache = (CpuKvCache)_b.AllocateKvCache(new KvCacheShape(1, nb + 1, blockSize, kvHeads, headDim, dtype));
        var k = TestData.Random(len * kvDim, 11);
        var v = TestData.Random(len * kvDim, 12);
        var table = Enumerable.Range(1, nb).Reverse().ToArray();
        Fill(cache, table, k, v, len);
        int many = len - first;
        var q = TestData.Random(many * qDim, 13);
        var shape = new AttentionShape(heads, kvHeads, headDim, 1f / MathF.Sqrt(headDim));
        StepMetadata Meta(int from, int count) => OneSequence(table, from, count);

        using var qa = (CpuActivation)_b.Allocate(many, qDim);
        using var oa = (CpuActivation)_b.Allocate(many, qDim);
        q.AsSpan().CopyTo(new Span<float>(qa.Data, many * qDim));
        _b.BeginStep(Meta(first, many));
        _b.Attention(qa, cache, 0, shape, oa);

        using var q1 = (CpuActivation)_b.Allocate(1, qDim);
        using var o1 = (CpuActivation)_b.Allocate(1, qDim);
        // Rows at a tile's start, middle and end (tiles are cut from the sequence's last token backwards).
        foreach (int row in new[] { 0, 1, 7, 8, 9, many - 1 })
        {
            q.AsSpan(row * qDim, qDim).CopyTo(q1.RowSpan(0));
            _b.BeginStep(Meta(first + row, 1));
            _b.Attention(q1, cache, 0, shape, o1);
            Assert.True(o1.RowSpan(0).SequenceEqual(oa.RowSpan(row)), $"row {row} differs between a 1-token and a {many}-token step");
        }
    }
    /// <summary>Writes positions [0, len) of one sequence (rows of k and v) into its blocks, as <see cref="WriteSlot"/> does.</summary>
    private static void Fill(CpuKvCache cache, int[] table, float[] k, float[] v, int len)
    {
        int kvDim = cache.Shape.KvDim, blockSize = cache.Shape.BlockSize;
        for (int p = 0; p < len; p++)
        {
            long slot = table[p / blockSize] * blockSize + p % blockSize;
            WriteSlot(cache, slot, k.AsSpan(p * kvDim, kvDim), v.AsSpan(p * kvDim, kvDim));
        }
    }

    /// <summary>A step of one sequence whose queries are positions [from, from + count), over the blocks of <paramref name="table"/>.</summary>
    private static StepMetadata OneSequence(int[] table, int from, int count)
    {
        var m = new StepMetadata(count, 1, 16) { NumTokens = count, NumSeqs = 1 };
        for (int b = 0; b < table.Length; b++) m.BlockTables[b] = table[b];
        for (int i = 0; i < count; i++) m.Positions[i] = from + i;
        m.QueryStart[1] = count;
        m.SeqLens[0] = from + count;
        return m;
    }
}
