using Inference.Kernels;
using Inference.Kernels.Cpu;
using Inference.Kernels.Ilgpu;
using Inference.Kernels.Ilgpu.Kernels;

namespace Inference.Tests.Ilgpu;

/// <summary>
/// Every ILGPU kernel against the CPU backend on fresh random inputs; one subclass per accelerator.
/// Shapes stay small: the CPU accelerator runs each GPU thread as an OS thread.
/// </summary>
public abstract class IlgpuKernelTests : IDisposable
{
    private readonly CpuBackend _cpu = new(threads: 1);
    private readonly List<IDisposable> _owned = [];

    protected abstract IlgpuBackend Gpu { get; }

    public void Dispose()
    {
        foreach (var d in _owned) d.Dispose();
        _cpu.Dispose();
    }

    private T Own<T>(T d) where T : IDisposable { _owned.Add(d); return d; }

    private (IActivation Cpu, IActivation Gpu) Pair(int rows, int cols, float[]? data = null)
    {
        var c = Own(_cpu.Allocate(Math.Max(rows, 1), cols));
        var g = Own(Gpu.Allocate(Math.Max(rows, 1), cols));
        if (data is not null)
        {
            DeviceData.Write(c, data);
            DeviceData.Write(g, data);
        }
        return (c, g);
    }

    private (IDeviceWeight Cpu, IDeviceWeight Gpu) Load(HostWeight w) => (Own(_cpu.LoadWeight(w)), Own(Gpu.LoadWeight(w)));

    private static StepMetadata SimpleStep(int tokens, int vocab, int seed)
    {
        var m = new StepMetadata(Math.Max(tokens, 1), Math.Max(tokens, 1), 1);
        var r = new Random(seed);
        m.NumTokens = tokens;
        m.NumSeqs = tokens;
        for (int t = 0; t < tokens; t++)
        {
            m.TokenIds[t] = r.Next(vocab);
            m.Positions[t] = r.Next(5000);
            m.SlotMapping[t] = t;
            m.QueryStart[t + 1] = t + 1;
            m.SeqLens[t] = m.Positions[t] + 1;
            m.SampleRows[t] = tokens - 1 - t;
        }
        m.NumSample = tokens;
        return m;
    }

    private void Begin(StepMetadata m)
    {
        _cpu.BeginStep(m);
        Gpu.BeginStep(m);
    }

    public static TheoryData<WeightFormat, int, int, int> MatMulCases => new()
    {
        { WeightFormat.F32, 1, 17, 5 },
        { WeightFormat.F32, 5, 64, 37 },
        { WeightFormat.F16, 3, 40, 9 },
        { WeightFormat.F16, 6, 96, 33 },
        { WeightFormat.BF16, 1, 48, 21 },
        { WeightFormat.BF16, 4, 33, 12 },
        { WeightFormat.Int8, 1, 40, 19 },
        { WeightFormat.Int8, 7, 72, 11 },
        { WeightFormat.Int4, 1, 64, 13 },
        { WeightFormat.Int4, 5, 40, 30 },
        { TestWeights.Int4Zero, 2, 48, 7 },
        { TestWeights.Int4Zero, 9, 32, 26 },
    };

    [DeviceTheory]
    [MemberData(nameof(MatMulCases))]
    public void MatMulMatchesCpu(WeightFormat format, int rows, int k, int outF)
    {
        using var w = TestWeights.Make(format, outF, k, 10 + k);
        using var bias = HostWeight.FromFloats("b", 1, outF, TestData.Random(outF, 3));
        var (wc, wg) = Load(w);
        var (bc, bg) = Load(bias);
        var (xc, xg) = Pair(rows, k, TestData.Random(rows * k, 2 + rows));
        var (yc, yg) = Pair(rows, outF);
        _cpu.MatMul(xc, wc, bc, yc, rows);
        Gpu.MatMul(xg, wg, bg, yg, rows);
        TestData.AssertClose(DeviceData.Read(Gpu, yg, rows), DeviceData.Read(_cpu, yc, rows), 1e-5, $"matmul {format} {rows}x{k}x{outF}");
    }

    [DeviceFact]
    public void MatMulRowIsIndependentOfBatch()
    {
        const int k = 45, outF = 23, rows = 9;
        using var w = TestWeights.Make(WeightFormat.F16, outF, k, 5);
        var (_, wg) = Load(w);
        var xs = TestData.Random(rows * k, 6);
        var (_, x9) = Pair(rows, k, xs);
        var (_, y9) = Pair(rows, outF);
        Gpu.MatMul(x9, wg, null, y9, rows);
        var all = DeviceData.Read(Gpu, y9, rows);
        foreach (int r in new[] { 0, 4, 8 })
        {
            var (_, x1) = Pair(1, k, xs.AsSpan(r * k, k).ToArray());
            var (_, y1) = Pair(1, outF);
            Gpu.MatMul(x1, wg, null, y1, 1);
            Assert.Equal(all.AsSpan(r * outF, outF).ToArray(), DeviceData.Read(Gpu, y1, 1));
        }
    }

    /// <summary>Rows from the tiled GEMM's threshold up; rows, K and features all off the tile sizes.</summary>
    public static TheoryData<WeightFormat, int, int, int> TiledMatMulCases => new()
    {
        { WeightFormat.F32, 13, 45, 11 },
        { WeightFormat.F32, 21, 70, 19 },
        { WeightFormat.F16, 10, 37, 30 },
        { WeightFormat.BF16, 17, 29, 9 },
        { WeightFormat.Int8, 11, 53, 14 },
        { WeightFormat.Int4, 19, 40, 13 },
        { TestWeights.Int4Zero, 9, 56, 21 },
    };

    [DeviceTheory]
    [MemberData(nameof(TiledMatMulCases))]
    public void TiledMatMulMatchesCpu(WeightFormat format, int rows, int k, int outF)
    {
        Assert.True(rows >= Gpu.GemmMinRows, "the case must take the tiled path");
        MatMulMatchesCpu(format, rows, k, outF);
    }

    /// <summary>
    /// A row's output bits do not depend on which kernel the batch's row count picks: matvec (1 row), the
    /// 4-row kernel (5 rows) and the tiled GEMM (13 rows) agree exactly for every weight format.
    /// </summary>
    [DeviceTheory]
    [InlineData(WeightFormat.F32)]
    [InlineData(WeightFormat.F16)]
    [InlineData(WeightFormat.BF16)]
    [InlineData(WeightFormat.Int8)]
    [InlineData(WeightFormat.Int4)]
    [InlineData(TestWeights.Int4Zero)]
    public void MatMulRowIsIndependentOfKernel(WeightFormat format)
    {
        const int k = 72, outF = 15, rows = 13;
        Assert.True(rows >= Gpu.GemmMinRows && 5 < Gpu.GemmMinRows);
        using var w = TestWeights.Make(format, outF, k, 60);
        var (_, wg) = Load(w);
        var xs = TestData.Random(rows * k, 61);
        float[] Run(int first, int n)
        {
            var (_, xa) = Pair(n, k, xs.AsSpan(first * k, n * k).ToArray());
            var (_, ya) = Pair(n, outF);
            Gpu.MatMul(xa, wg, null, ya, n);
            return DeviceData.Read(Gpu, ya, n);
        }
        var tiled = Run(0, rows);
        var four = Run(8, 5);
        for (int r = 8; r < rows; r++)
        {
            var alone = Run(r, 1);
            Assert.Equal(tiled.AsSpan(r * outF, outF).ToArray(), alone);
            Assert.Equal(four.AsSpan((r - 8) * outF, outF).ToArray(), alone);
        }
    }

    /// <summary>
    /// The argmax kernel picks what the host sampler's IndexOfMax picks, value bits included, on rows full of equal
    /// maxima, -inf, ±0 and NaN; column counts off the group size and below it.
    /// </summary>
    [DeviceTheory]
    [InlineData(1, 1)]
    [InlineData(1, 37)]
    [InlineData(3, 5)]
    [InlineData(5, 64)]
    [InlineData(7, 103)]
    [InlineData(10, 250)]
    [InlineData(2, 4099)]
    public void ArgMaxMatchesIndexOfMax(int rows, int cols)
    {
        var data = ArgMaxData.Rows(rows, cols, 70 + rows * cols);
        var (xc, xg) = Pair(rows, cols, data);
        var (ei, ev) = ArgMaxData.Expected(data, rows, cols);
        foreach (var b in new IComputeBackend[] { Gpu, _cpu })
        {
            var idx = new int[rows];
            var val = new float[rows];
            b.ArgMax(b == _cpu ? xc : xg, rows, idx, val);
            Assert.Equal(ei, idx);
            Assert.True(ArgMaxData.SameBits(ev, val), $"values {string.Join(',', val)} != {string.Join(',', ev)}");
        }
    }

    [DeviceTheory]
    [InlineData(1, 64)]
    [InlineData(5, 100)]
    public void RmsNormMatchesCpu(int rows, int cols)
    {
        using var w = HostWeight.FromFloats("n", 1, cols, TestData.Random(cols, 4));
        var (wc, wg) = Load(w);
        var (xc, xg) = Pair(rows, cols, TestData.Random(rows * cols, 5, 3f));
        var (yc, yg) = Pair(rows, cols);
        _cpu.RmsNorm(xc, wc, 1e-5f, yc, rows);
        Gpu.RmsNorm(xg, wg, 1e-5f, yg, rows);
        TestData.AssertClose(DeviceData.Read(Gpu, yg, rows), DeviceData.Read(_cpu, yc, rows), 1e-5, "rmsnorm");
    }

    [DeviceTheory]
    [InlineData(WeightFormat.F32)]
    [InlineData(WeightFormat.BF16)]
    [InlineData(WeightFormat.Int4)]
    public void EmbedMatchesCpu(WeightFormat format)
    {
        const int vocab = 50, cols = 24, tokens = 6;
        using var table = TestWeights.Make(format, vocab, cols, 8);
        var (tc, tg) = Load(table);
        Begin(SimpleStep(tokens, vocab, 9));
        var (oc, og) = Pair(tokens, cols);
        _cpu.Embed(tc, oc);
        Gpu.Embed(tg, og);
        Assert.Equal(DeviceData.Read(_cpu, oc, tokens), DeviceData.Read(Gpu, og, tokens));
    }

    [DeviceTheory]
    [InlineData(64)]
    [InlineData(128)]
    public void RopeMatchesCpu(int headDim)
    {
        const int rows = 3, heads = 4, kvHeads = 2;
        var table = new RopeTable(headDim, 500000f, "llama3", 8f, 1f, 4f, 8192);
        Begin(SimpleStep(rows, 10, 11));
        var (qc, qg) = Pair(rows, heads * headDim, TestData.Random(rows * heads * headDim, 12));
        var (kc, kg) = Pair(rows, kvHeads * headDim, TestData.Random(rows * kvHeads * headDim, 13));
        _cpu.Rope(qc, kc, table, heads, kvHeads, rows);
        Gpu.Rope(qg, kg, table, heads, kvHeads, rows);
        TestData.AssertClose(DeviceData.Read(Gpu, qg, rows), DeviceData.Read(_cpu, qc, rows), 1e-5, "rope q");
        TestData.AssertClose(DeviceData.Read(Gpu, kg, rows), DeviceData.Read(_cpu, kc, rows), 1e-5, "rope k");
    }

    [DeviceFact]
    public void ElementwiseOpsMatchCpu()
    {
        const int rows = 4, cols = 37;
        var (gc, gg) = Pair(rows, cols, TestData.Random(rows * cols, 14, 4f));
        var (uc, ug) = Pair(rows, cols, TestData.Random(rows * cols, 15));
        var (oc, og) = Pair(rows, cols);
        _cpu.SiluMul(gc, uc, oc, rows);
        Gpu.SiluMul(gg, ug, og, rows);
        TestData.AssertClose(DeviceData.Read(Gpu, og, rows), DeviceData.Read(_cpu, oc, rows), 1e-6, "silu_mul");
        _cpu.Add(oc, uc, rows);
        Gpu.Add(og, ug, rows);
        TestData.AssertClose(DeviceData.Read(Gpu, og, rows), DeviceData.Read(_cpu, oc, rows), 1e-6, "add");
        // Gather copies rows exactly: compare with the device's own source rows (silu_mul above may round
        // differently from the CPU's vectorized version in the last bit, which the 1e-6 bound allows).
        var step = SimpleStep(rows, 10, 16);
        step.NumSample = 2;
        step.SampleRows[0] = 3;
        step.SampleRows[1] = 1;
        Begin(step);
        var (_, dg) = Pair(rows, cols);
        Gpu.GatherSampleRows(og, dg);
        var src = DeviceData.Read(Gpu, og, rows);
        var got = DeviceData.Read(Gpu, dg, 2);
        Assert.Equal(src.AsSpan(3 * cols, cols).ToArray(), got.AsSpan(0, cols).ToArray());
        Assert.Equal(src.AsSpan(1 * cols, cols).ToArray(), got.AsSpan(cols, cols).ToArray());
    }

    [DeviceTheory]
    [InlineData(KvCacheDType.F32)]
    [InlineData(KvCacheDType.F16)]
    public void StoreKvWritesSlots(KvCacheDType dtype)
    {
        var shape = new KvCacheShape(2, 4, 4, 2, 8, dtype);
        var cc = Own(_cpu.AllocateKvCache(shape));
        var cg = Own(Gpu.AllocateKvCache(shape));
        var m = SimpleStep(3, 10, 17);
        m.SlotMapping[0] = 13; m.SlotMapping[1] = 2; m.SlotMapping[2] = 7;
        Begin(m);
        var (kc, kg) = Pair(3, shape.KvDim, TestData.Random(3 * shape.KvDim, 18));
        var (vc, vg) = Pair(3, shape.KvDim, TestData.Random(3 * shape.KvDim, 19));
        _cpu.StoreKv(kc, vc, cc, 1, 3);
        Gpu.StoreKv(kg, vg, cg, 1, 3);
        Gpu.Synchronize();
        int n = shape.NumSlots * shape.KvDim;
        Assert.Equal(DeviceData.ReadK(cc, 1, n), DeviceData.ReadK(cg, 1, n));
        Assert.Equal(DeviceData.ReadV(cc, 1, n), DeviceData.ReadV(cg, 1, n));
        Assert.Contains(DeviceData.ReadK(cg, 1, n), v => v != 0f);
    }

    /// <summary>A ragged step: a fresh prefill, a chunked prefill continuing at position 13 and a decode.</summary>
    private static StepMetadata MixedStep(int blockSize, int numBlocks, (int Start, int Count)[] seqs, int seed)
    {
        int maxBlocks = numBlocks;
        int tokens = seqs.Sum(s => s.Count);
        var m = new StepMetadata(tokens, seqs.Length, maxBlocks);
        // Each sequence gets a shuffled, non-contiguous set of blocks.
        var blocks = Enumerable.Range(0, numBlocks).OrderBy(_ => Guid.NewGuid()).ToArray();
        new Random(seed).Shuffle(blocks);
        int next = 0, row = 0;
        for (int s = 0; s < seqs.Length; s++)
        {
            var (start, count) = seqs[s];
            int ctx = start + count;
            int need = (ctx + blockSize - 1) / blockSize;
            for (int b = 0; b < need; b++) m.BlockTables[s * maxBlocks + b] = blocks[next++];
            for (int i = 0; i < count; i++, row++)
            {
                int pos = start + i;
                m.TokenIds[row] = 0;
                m.Positions[row] = pos;
                m.SlotMapping[row] = m.BlockTables[s * maxBlocks + pos / blockSize] * blockSize + pos % blockSize;
            }
            m.SeqLens[s] = ctx;
            m.QueryStart[s + 1] = row;
        }
        m.NumTokens = tokens;
        m.NumSeqs = seqs.Length;
        return m;
    }

    private float[] RunAttention(IComputeBackend b, IKvCache cache, StepMetadata m, AttentionShape shape, float[] q)
    {
        b.BeginStep(m);
        var qa = Own(b.Allocate(m.NumTokens, shape.QDim));
        var oa = Own(b.Allocate(m.NumTokens, shape.QDim));
        DeviceData.Write(qa, q);
        b.Attention(qa, cache, 0, shape, oa);
        return DeviceData.Read(b, oa, m.NumTokens);
    }

    private (IKvCache Cpu, IKvCache Gpu) RandomCache(KvCacheShape shape, int seed)
    {
        var cc = Own(_cpu.AllocateKvCache(shape));
        var cg = Own(Gpu.AllocateKvCache(shape));
        int n = shape.NumSlots * shape.KvDim;
        var k = TestData.Random(n, seed, 2f);
        var v = TestData.Random(n, seed + 1);
        DeviceData.WriteKv(cc, 0, k, v);
        DeviceData.WriteKv(cg, 0, k, v);
        return (cc, cg);
    }

    [DeviceTheory]
    [InlineData(64, 1, 16)]
    [InlineData(64, 2, 8)]
    [InlineData(128, 4, 16)]
    [InlineData(64, 8, 16)]
    [InlineData(128, 8, 8)]
    public void PagedAttentionMatchesCpu(int headDim, int ratio, int blockSize) =>
        AttentionMatchesCpu(headDim, ratio, blockSize, KvCacheDType.F32);

    /// <summary>Both sides hold the same F16-rounded K/V; only the widening and the math are compared.</summary>
    [DeviceTheory]
    [InlineData(64, 1, 16)]
    [InlineData(128, 4, 16)]
    [InlineData(64, 8, 16)]
    [InlineData(24, 3, 8)]
    public void PagedAttentionMatchesCpuF16(int headDim, int ratio, int blockSize) =>
        AttentionMatchesCpu(headDim, ratio, blockSize, KvCacheDType.F16);

    private void AttentionMatchesCpu(int headDim, int ratio, int blockSize, KvCacheDType dtype)
    {
        const int kvHeads = 2, numBlocks = 12;
        var shape = new AttentionShape(kvHeads * ratio, kvHeads, headDim, 1f / MathF.Sqrt(headDim));
        var kv = new KvCacheShape(1, numBlocks, blockSize, kvHeads, headDim, dtype);
        var (cc, cg) = RandomCache(kv, 20 + headDim + ratio);
        // Lengths off the tile and block sizes: prefill 11, chunk of 6 at 13, decode at 30.
        var m = MixedStep(blockSize, numBlocks, [(0, 11), (13, 6), (30, 1)], 21);
        var q = TestData.Random(m.NumTokens * shape.QDim, 22);
        var expected = RunAttention(_cpu, cc, m, shape, q);
        var actual = RunAttention(Gpu, cg, m, shape, q);
        TestData.AssertClose(actual, expected, 1e-5, $"attention d={headDim} gqa={ratio} block={blockSize}");
    }

    [DeviceFact]
    public void PagedAttentionQueryIsIndependentOfBatch()
    {
        const int headDim = 64, blockSize = 8, numBlocks = 12;
        var shape = new AttentionShape(8, 2, headDim, 0.125f);
        var kv = new KvCacheShape(1, numBlocks, blockSize, 2, headDim);
        var (_, cg) = RandomCache(kv, 30);
        var batch = MixedStep(blockSize, numBlocks, [(0, 11), (13, 6), (30, 1)], 31);
        var q = TestData.Random(batch.NumTokens * shape.QDim, 32);
        var all = RunAttention(Gpu, cg, batch, shape, q);
        // The last token of the chunked prefill, alone as a decode step over the same blocks.
        var alone = new StepMetadata(1, 1, numBlocks) { NumTokens = 1, NumSeqs = 1 };
        alone.Positions[0] = 18;
        alone.QueryStart[1] = 1;
        alone.SeqLens[0] = 19;
        Array.Copy(batch.BlockTables, numBlocks, alone.BlockTables, 0, numBlocks);
        int row = 16;
        var one = RunAttention(Gpu, cg, alone, shape, q.AsSpan(row * shape.QDim, shape.QDim).ToArray());
        Assert.Equal(all.AsSpan(row * shape.QDim, shape.QDim).ToArray(), one);
    }

    /// <summary>Runs <paramref name="body"/> with short KV partitions (so small contexts split) and restores the backend.</summary>
    private T WithPartitions<T>(int blocks, AttentionSplitMode mode, Func<T> body)
    {
        int oldBlocks = Gpu.AttentionPartitionBlocks;
        var oldMode = Gpu.AttentionSplit;
        Gpu.AttentionPartitionBlocks = blocks;
        Gpu.AttentionSplit = mode;
        try { return body(); }
        finally
        {
            Gpu.AttentionPartitionBlocks = oldBlocks;
            Gpu.AttentionSplit = oldMode;
        }
    }

    // Block size 4 and 2-block partitions: the decodes at 30 and 37 have 4 and 5 partitions, the chunk at 13 has 2-3.
    private static readonly (int Start, int Count)[] s_splitSeqs = [(0, 11), (13, 9), (30, 1), (37, 1)];

    [DeviceTheory]
    [InlineData(KvCacheDType.F32, 2, AttentionSplitMode.Auto)]
    [InlineData(KvCacheDType.F16, 4, AttentionSplitMode.Auto)]
    [InlineData(KvCacheDType.F32, 1, AttentionSplitMode.Always)]
    public void SplitKvAttentionMatchesCpu(KvCacheDType dtype, int ratio, AttentionSplitMode mode)
    {
        const int headDim = 32, kvHeads = 2, blockSize = 4, numBlocks = 30;
        var shape = new AttentionShape(kvHeads * ratio, kvHeads, headDim, 1f / MathF.Sqrt(headDim));
        var kv = new KvCacheShape(1, numBlocks, blockSize, kvHeads, headDim, dtype);
        var (cc, cg) = RandomCache(kv, 40 + ratio);
        var m = MixedStep(blockSize, numBlocks, s_splitSeqs, 41);
        var q = TestData.Random(m.NumTokens * shape.QDim, 42, 3f);
        var expected = RunAttention(_cpu, cc, m, shape, q);
        var actual = WithPartitions(2, mode, () => RunAttention(Gpu, cg, m, shape, q));
        TestData.AssertClose(actual, expected, 1e-5, $"split-kv attention {dtype} gqa={ratio} {mode}");
    }

    [DeviceFact]
    public void SplitKvQueryIsIndependentOfBatch()
    {
        const int headDim = 32, blockSize = 4, numBlocks = 30;
        var shape = new AttentionShape(4, 2, headDim, 1f / MathF.Sqrt(headDim));
        var kv = new KvCacheShape(1, numBlocks, blockSize, 2, headDim);
        var (_, cg) = RandomCache(kv, 50);
        var batch = MixedStep(blockSize, numBlocks, s_splitSeqs, 51);
        var q = TestData.Random(batch.NumTokens * shape.QDim, 52, 3f);
        float[] Alone(int seq, int row)
        {
            var one = new StepMetadata(1, 1, numBlocks) { NumTokens = 1, NumSeqs = 1 };
            one.Positions[0] = batch.Positions[row];
            one.QueryStart[1] = 1;
            one.SeqLens[0] = batch.Positions[row] + 1;
            Array.Copy(batch.BlockTables, seq * numBlocks, one.BlockTables, 0, numBlocks);
            return RunAttention(Gpu, cg, one, shape, q.AsSpan(row * shape.QDim, shape.QDim).ToArray());
        }
        float[] Row(float[] all, int row) => all.AsSpan(row * shape.QDim, shape.QDim).ToArray();
        WithPartitions(2, AttentionSplitMode.Auto, () =>
        {
            var mixed = RunAttention(Gpu, cg, batch, shape, q);
            // A decode (split into 5 partitions) alone and among a prefill, a chunk and another decode.
            Assert.Equal(Row(mixed, 21), Alone(3, 21));
            // The chunk's last token (position 21, 3 partitions walked in one group) against the same token
            // as a decode step, whose partitions run in separate groups and meet in the merge kernel.
            Assert.Equal(Row(mixed, 19), Alone(1, 19));
            // A prefill token with one partition: no merge at all on either path.
            Assert.Equal(Row(mixed, 5), Alone(0, 5));
            // The whole batch, every multi-partition tile split, and none split.
            Gpu.AttentionSplit = AttentionSplitMode.Always;
            Assert.Equal(mixed, RunAttention(Gpu, cg, batch, shape, q));
            Gpu.AttentionSplit = AttentionSplitMode.Never;
            Assert.Equal(mixed, RunAttention(Gpu, cg, batch, shape, q));
            return 0;
        });
    }
}

/// <summary>The kernels on ILGPU's CPU accelerator (always runs).</summary>
public sealed class CpuAcceleratorKernelTests : IlgpuKernelTests
{
    private static readonly Lazy<IlgpuBackend> s_backend = new(() => IlgpuBackend.Create(IlgpuDeviceKind.Cpu));
    protected override IlgpuBackend Gpu => s_backend.Value;
}

/// <summary>The kernels on the first CUDA GPU (skipped without one).</summary>
[RequiresCuda]
public sealed class CudaKernelTests : IlgpuKernelTests
{
    private static readonly Lazy<IlgpuBackend> s_backend = new(() => IlgpuBackend.Create(IlgpuDeviceKind.Cuda));
    protected override IlgpuBackend Gpu => s_backend.Value;
}
