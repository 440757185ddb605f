using ILGPU.Runtime;
using Inference.Kernels;
using Inference.Kernels.Cpu;
using Inference.Kernels.Ilgpu;
using Inference.Kernels.Ilgpu.Kernels;
using Inference.Tests.Ilgpu;

namespace Inference.Bench.Gpu;

/// <summary>The kernel checks of the test suite, as a console run: each ILGPU kernel against the CPU backend.</summary>
public sealed unsafe class Checks(IlgpuBackend gpu, bool dryRun, Action<string> log) : IDisposable
{
    private readonly CpuBackend _cpu = new();
    private readonly List<IDisposable> _owned = [];
    public int Passed { get; private set; }
    public int Failed { get; private set; }

    public void Dispose()
    {
        foreach (var d in _owned) d.Dispose();
        _cpu.Dispose();
    }

    public void RunAll()
    {
        foreach (var f in new[] { WeightFormat.F32, WeightFormat.F16, WeightFormat.BF16, WeightFormat.Int8, WeightFormat.Int4, TestWeights.Int4Zero })
            foreach (int rows in new[] { 1, 3, 7, 40 })
                MatMul(f, rows, 264, 97);
        MatMulBatchInvariance();
        foreach (var f in new[] { WeightFormat.F32, WeightFormat.F16, WeightFormat.BF16, WeightFormat.Int8, WeightFormat.Int4, TestWeights.Int4Zero })
            MatMulKernelInvariance(f);
        foreach (int d in new[] { 64, 128 })
            foreach (int ratio in new[] { 1, 2, 4, 8 })
                foreach (int block in new[] { 16, 32 })
                    Attention(d, ratio, block);
        foreach (int d in new[] { 64, 128 })
            foreach (int ratio in new[] { 1, 4, 8 })
                SplitKvAttention(d, ratio);
        RmsNorm();
        foreach (int rows in new[] { 1, 7, 32 })
            ArgMax(rows, dryRun ? 1000 : 128256);
    }

    private void Report(string what, double err, double tol)
    {
        bool ok = err <= tol && !double.IsNaN(err);
        if (ok) Passed++; else Failed++;
        log($"  {(ok ? "PASS" : "FAIL")} {what}: relative error {err:E2} (bound {tol:E0})");
    }

    private static double RelErr(float[] a, float[] e)
    {
        double md = 0, mr = 1e-30;
        for (int i = 0; i < e.Length; i++)
        {
            if (float.IsNaN(a[i])) return double.NaN;
            md = Math.Max(md, Math.Abs(a[i] - e[i]));
            mr = Math.Max(mr, Math.Abs(e[i]));
        }
        return md / mr;
    }

    private T Own<T>(T d) where T : IDisposable { _owned.Add(d); return d; }

    private (IActivation, IActivation) Pair(int rows, int cols, float[]? data = null)
    {
        var c = (CpuActivation)Own(_cpu.Allocate(rows, cols));
        var g = (IlgpuActivation)Own(gpu.Allocate(rows, cols));
        if (data is not null)
        {
            data.CopyTo(new Span<float>(c.Data, data.Length));
            g.Buffer.View.SubView(0, data.Length).CopyFromCPU(ref data[0], data.Length);
        }
        return (c, g);
    }

    private float[] Read(IComputeBackend b, IActivation a, int rows)
    {
        var r = new float[rows * a.Cols];
        b.Read(a, rows, r);
        return r;
    }

    private void MatMul(WeightFormat f, int rows, int k, int outF)
    {
        using var w = TestWeights.Make(f, outF, k, k + rows);
        var wc = Own(_cpu.LoadWeight(w));
        var wg = Own(gpu.LoadWeight(w));
        var (xc, xg) = Pair(rows, k, TestWeights.RandomValues(rows * k, 7));
        var (yc, yg) = Pair(rows, outF);
        _cpu.MatMul(xc, wc, null, yc, rows);
        gpu.MatMul(xg, wg, null, yg, rows);
        string name = f == TestWeights.Int4Zero ? "Int4+zeros" : f.ToString();
        Report($"matmul {name} {rows}x{k}x{outF}", RelErr(Read(gpu, yg, rows), Read(_cpu, yc, rows)), 1e-5);
    }

    private void MatMulBatchInvariance()
    {
        const int k = 300, outF = 50, rows = 9;
        using var w = TestWeights.Make(WeightFormat.F16, outF, k, 3);
        var wg = Own(gpu.LoadWeight(w));
        var xs = TestWeights.RandomValues(rows * k, 4);
        var (_, x9) = Pair(rows, k, xs);
        var (_, y9) = Pair(rows, outF);
        gpu.MatMul(x9, wg, null, y9, rows);
        var all = Read(gpu, y9, rows);
        var (_, x1) = Pair(1, k, xs.AsSpan(8 * k, k).ToArray());
        var (_, y1) = Pair(1, outF);
        gpu.MatMul(x1, wg, null, y1, 1);
        bool same = all.AsSpan(8 * outF, outF).SequenceEqual(Read(gpu, y1, 1));
        Report("matmul row 8 of 9 == row alone (bitwise)", same ? 0 : 1, 0);
    }

    /// <summary>Rows 40..44 through the tiled GEMM (45 rows), the 4-row kernel (5 rows) and matvec (1 row): same bits.</summary>
    private void MatMulKernelInvariance(WeightFormat f)
    {
        const int k = 264, outF = 97, rows = 45;
        using var w = TestWeights.Make(f, outF, k, 11);
        var wg = Own(gpu.LoadWeight(w));
        var xs = TestWeights.RandomValues(rows * k, 12);
        float[] Run(int first, int n)
        {
            var (_, xa) = Pair(n, k, xs.AsSpan(first * k, n * k).ToArray());
            var (_, ya) = Pair(n, outF);
            gpu.MatMul(xa, wg, null, ya, n);
            return Read(gpu, ya, n);
        }
        var tiled = Run(0, rows);
        var four = Run(40, 5);
        bool same = true;
        for (int r = 40; r < rows; r++)
        {
            var alone = Run(r, 1);
            same &= tiled.AsSpan(r * outF, outF).SequenceEqual(alone) && four.AsSpan((r - 40) * outF, outF).SequenceEqual(alone);
        }
        string name = f == TestWeights.Int4Zero ? "Int4+zeros" : f.ToString();
        Report($"matmul {name} rows 40..44: tiled GEMM == 4-row kernel == matvec (bitwise)", same ? 0 : 1, 0);
    }

    /// <summary>
    /// Contexts past the KV partition size: a chunked prefill walking several partitions in one group and decodes
    /// split across groups, against the CPU; then the bits of the batch with every / no tile split, and of a
    /// decode alone.
    /// </summary>
    private void SplitKvAttention(int d, int ratio)
    {
        const int kvHeads = 2, blockSize = 16;
        int oldBlocks = gpu.AttentionPartitionBlocks;
        var oldMode = gpu.AttentionSplit;
        // The dry run (CPU accelerator) keeps contexts short with 2-block partitions.
        int partBlocks = dryRun ? 2 : oldBlocks;
        int pk = partBlocks * blockSize;
        var shape = new AttentionShape(kvHeads * ratio, kvHeads, d, 1f / MathF.Sqrt(d));
        int[] start = [2 * pk + 5, 3 * pk - 1, pk / 2, 4 * pk + 7];
        int[] counts = [dryRun ? 9 : 40, 1, 1, 1];
        int numBlocks = 0;
        for (int s = 0; s < start.Length; s++) numBlocks += (start[s] + counts[s] + blockSize - 1) / blockSize;
        var kv = new KvCacheShape(1, numBlocks + 3, blockSize, kvHeads, d);
        var m = AttentionStep.Build(kv, start, counts, seed: 7 * d + ratio);
        var cc = (CpuKvCache)Own(_cpu.AllocateKvCache(kv));
        var cg = (IlgpuKvCache)Own(gpu.AllocateKvCache(kv));
        int n = kv.NumSlots * kv.KvDim;
        var k = TestWeights.RandomValues(n, 8, 2f);
        var v = TestWeights.RandomValues(n, 9);
        k.CopyTo(new Span<float>(cc.K(0), n));
        v.CopyTo(new Span<float>(cc.V(0), n));
        cg.K(0).SubView(0, n).CopyFromCPU(k);
        cg.V(0).SubView(0, n).CopyFromCPU(v);
        var q = TestWeights.RandomValues(m.NumTokens * shape.QDim, 10, 3f);
        var (qc, qg) = Pair(m.NumTokens, shape.QDim, q);
        var (oc, og) = Pair(m.NumTokens, shape.QDim);
        _cpu.BeginStep(m);
        _cpu.Attention(qc, cc, 0, shape, oc);
        float[] Gpu(StepMetadata step, IActivation qa, AttentionSplitMode mode)
        {
            gpu.AttentionSplit = mode;
            gpu.BeginStep(step);
            var (_, o) = Pair(step.NumTokens, shape.QDim);
            gpu.Attention(qa, cg, 0, shape, o);
            return Read(gpu, o, step.NumTokens);
        }
        try
        {
            gpu.AttentionPartitionBlocks = partBlocks;
            var auto = Gpu(m, qg, AttentionSplitMode.Auto);
            string what = $"split-kv attention d={d} gqa={ratio} partition {pk} keys (chunk {counts[0]}@{start[0]}, decodes at {start[1]}, {start[2]}, {start[3]})";
            Report(what, RelErr(auto, Read(_cpu, oc, m.NumTokens)), 1e-5);
            bool same = auto.SequenceEqual(Gpu(m, qg, AttentionSplitMode.Always)) && auto.SequenceEqual(Gpu(m, qg, AttentionSplitMode.Never));
            // The last decode alone (one sequence, one token) over the same blocks.
            int row = m.NumTokens - 1;
            var one = new StepMetadata(1, 1, m.MaxBlocksPerSeq) { NumTokens = 1, NumSeqs = 1 };
            one.Positions[0] = m.Positions[row];
            one.QueryStart[1] = 1;
            one.SeqLens[0] = m.Positions[row] + 1;
            Array.Copy(m.BlockTables, 3 * m.MaxBlocksPerSeq, one.BlockTables, 0, m.MaxBlocksPerSeq);
            var (_, q1) = Pair(1, shape.QDim, q.AsSpan(row * shape.QDim, shape.QDim).ToArray());
            same &= auto.AsSpan(row * shape.QDim, shape.QDim).SequenceEqual(Gpu(one, q1, AttentionSplitMode.Auto));
            Report($"split-kv d={d} gqa={ratio}: all split == none split == auto, decode alone == in batch (bitwise)", same ? 0 : 1, 0);
        }
        finally
        {
            gpu.AttentionPartitionBlocks = oldBlocks;
            gpu.AttentionSplit = oldMode;
        }
    }

    /// <summary>The argmax kernel against IndexOfMax on rows of ties, -inf, ±0 and NaN, indices and value bits.</summary>
    private void ArgMax(int rows, int vocab)
    {
        var data = Inference.Tests.ArgMaxData.Rows(rows, vocab, rows);
        var (_, xg) = Pair(rows, vocab, data);
        var (ei, ev) = Inference.Tests.ArgMaxData.Expected(data, rows, vocab);
        var idx = new int[rows];
        var val = new float[rows];
        gpu.ArgMax(xg, rows, idx, val);
        bool same = idx.AsSpan().SequenceEqual(ei) && Inference.Tests.ArgMaxData.SameBits(ev, val);
        Report($"argmax {rows}x{vocab} == IndexOfMax (indices and value bits)", same ? 0 : 1, 0);
    }

    private void RmsNorm()
    {
        const int rows = 5, cols = 2048;
        using var w = HostWeight.FromFloats("n", 1, cols, TestWeights.RandomValues(cols, 5));
        var wc = Own(_cpu.LoadWeight(w));
        var wg = Own(gpu.LoadWeight(w));
        var (xc, xg) = Pair(rows, cols, TestWeights.RandomValues(rows * cols, 6, 3f));
        var (yc, yg) = Pair(rows, cols);
        _cpu.RmsNorm(xc, wc, 1e-5f, yc, rows);
        gpu.RmsNorm(xg, wg, 1e-5f, yg, rows);
        Report("rmsnorm 5x2048", RelErr(Read(gpu, yg, rows), Read(_cpu, yc, rows)), 1e-5);
    }

    private void Attention(int d, int ratio, int blockSize)
    {
        const int kvHeads = 2;
        var shape = new AttentionShape(kvHeads * ratio, kvHeads, d, 1f / MathF.Sqrt(d));
        var (start, counts) = (new[] { 0, 45, 200, 77 }, new[] { 37, 20, 1, 1 });
        int numBlocks = 0;
        for (int s = 0; s < 4; s++) numBlocks += (start[s] + counts[s] + blockSize - 1) / blockSize;
        var kv = new KvCacheShape(1, numBlocks + 3, blockSize, kvHeads, d);
        var m = AttentionStep.Build(kv, start, counts, seed: d + ratio);
        var cc = (CpuKvCache)Own(_cpu.AllocateKvCache(kv));
        var cg = (IlgpuKvCache)Own(gpu.AllocateKvCache(kv));
        int n = kv.NumSlots * kv.KvDim;
        var k = TestWeights.RandomValues(n, 1, 2f);
        var v = TestWeights.RandomValues(n, 2);
        k.CopyTo(new Span<float>(cc.K(0), n));
        v.CopyTo(new Span<float>(cc.V(0), n));
        cg.K(0).SubView(0, n).CopyFromCPU(k);
        cg.V(0).SubView(0, n).CopyFromCPU(v);
        var q = TestWeights.RandomValues(m.NumTokens * shape.QDim, 3);
        var (qc, qg) = Pair(m.NumTokens, shape.QDim, q);
        var (oc, og) = Pair(m.NumTokens, shape.QDim);
        _cpu.BeginStep(m);
        _cpu.Attention(qc, cc, 0, shape, oc);
        gpu.BeginStep(m);
        gpu.Attention(qg, cg, 0, shape, og);
        Report($"attention d={d} gqa={ratio} block={blockSize} (prefill 37, chunk 20@45, 2 decodes)",
            RelErr(Read(gpu, og, m.NumTokens), Read(_cpu, oc, m.NumTokens)), 1e-5);
    }
}
