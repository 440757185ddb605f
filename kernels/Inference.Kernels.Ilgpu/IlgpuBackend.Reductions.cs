using ILGPU;
using ILGPU.Runtime;
using Inference.Kernels.Ilgpu.Kernels;

namespace Inference.Kernels.Ilgpu;

/// <summary>The group-per-output ops: RMSNorm, matmul, attention, argmax.</summary>
public sealed partial class IlgpuBackend
{
    public void RmsNorm(IActivation x, IDeviceWeight weight, float eps, IActivation y, int rows)
    {
        if (rows == 0) return;
        var op = new RmsNormOp(this, (IlgpuActivation)x, (IlgpuActivation)y, eps, rows);
        ReaderDispatch.Run((IlgpuWeight)weight, ref op);
    }

    private readonly struct RmsNormOp(IlgpuBackend b, IlgpuActivation x, IlgpuActivation y, float eps, int rows) : IReaderOp
    {
        public void Run<TW>(TW reader) where TW : struct, IWeightReader
        {
            var k = b._kernels.Get($"rms_norm<{typeof(TW).Name}>", a => a.LoadStreamKernel<ArrayView<float>, TW, ArrayView<float>, int, float>(RmsNormKernel.Run));
            int g = b.ReduceGroup;
            k(new KernelConfig(rows, g, SharedMemoryConfig.RequestDynamic<float>(g)), x.View, reader, y.View, x.Cols, eps);
        }
    }

    public void ArgMax(IActivation x, int rows, Span<int> indices, Span<float> values)
    {
        if (indices.Length < rows || values.Length < rows) throw new ArgumentException($"argmax of {rows} rows into {indices.Length} indices and {values.Length} values");
        if (rows == 0) return;
        var xa = (IlgpuActivation)x;
        int n = 2 * rows;
        if (_argMax is null || _argMax.Length < n)
        {
            _argMax?.Dispose();
            _argMax = Accelerator.Allocate1D<int>(n);
            _argMaxHost = new int[n];
        }
        var k = _kernels.Get("argmax", a => a.LoadStreamKernel<ArrayView<float>, ArrayView<int>, int>(ArgMaxKernel.Run));
        int group = ArgMaxGroup;
        k(new KernelConfig(rows, group, SharedMemoryConfig.RequestDynamic<int>(2 * (group / Accelerator.WarpSize))), xa.View, _argMax.View.AsContiguous(), xa.Cols);
        Accelerator.Synchronize();
        _argMax.View.SubView(0, n).CopyToCPU(ref _argMaxHost[0], n);
        for (int r = 0; r < rows; r++)
        {
            indices[r] = _argMaxHost[2 * r];
            values[r] = BitConverter.Int32BitsToSingle(_argMaxHost[2 * r + 1]);
        }
    }

    public void MatMul(IActivation x, IDeviceWeight weight, IDeviceWeight? bias, IActivation y, int rows)
    {
        if (rows == 0) return;
        var w = (IlgpuWeight)weight;
        var xa = (IlgpuActivation)x;
        var ya = (IlgpuActivation)y;
        if (xa.Cols != w.Cols || ya.Cols != w.Rows)
            throw new ArgumentException($"{w.Name}: x [{rows}, {xa.Cols}] times W^T [{w.Cols}, {w.Rows}] into y [{rows}, {ya.Cols}]");
        var op = new MatMulOp(this, xa, ya, rows, w.Rows);
        ReaderDispatch.Run(w, ref op);
        if (bias is IlgpuWeight bw)
        {
            var bop = new BiasOp(this, ya, rows);
            ReaderDispatch.Run(bw, ref bop);
        }
    }

    private readonly struct MatMulOp(IlgpuBackend b, IlgpuActivation x, IlgpuActivation y, int rows, int outFeatures) : IReaderOp
    {
        public void Run<TW>(TW reader) where TW : struct, IWeightReader
        {
            // All three kernels reduce each element in the same order (see TiledMatMulKernel); the row count
            // only picks how weights are reused: not at all, across a 4-row tile, or through shared-memory tiles.
            if (rows >= b.GemmMinRows)
            {
                var g = b.GemmTile(rows, outFeatures);
                var t = b._kernels.Get($"tiled_matmul<{typeof(TW).Name}>", a => a.LoadStreamKernel<ArrayView<float>, TW, ArrayView<float>, GemmArgs>(TiledMatMulKernel.Run));
                int ws = b.Accelerator.WarpSize;
                var grid = new Index2D((outFeatures + g.TileFeatures - 1) / g.TileFeatures, (rows + g.TileRows - 1) / g.TileRows);
                t(new KernelConfig(grid, new Index2D(g.WarpRows * g.WarpFeatures * ws, 1), SharedMemoryConfig.RequestDynamic<float>(g.SharedFloats(ws))), x.View, reader, y.View, g);
                return;
            }
            int warps = b.MatMulWarps;
            int group = warps * b.Accelerator.WarpSize;
            int gx = (outFeatures + warps - 1) / warps;
            if (rows < MatMulKernel.RowTile)
            {
                var k = b._kernels.Get($"matvec<{typeof(TW).Name}>", a => a.LoadStreamKernel<ArrayView<float>, TW, ArrayView<float>, int>(MatVecKernel.Run));
                k(new KernelConfig(new Index2D(gx, rows), new Index2D(group, 1)), x.View, reader, y.View, outFeatures);
            }
            else
            {
                var k = b._kernels.Get($"matmul<{typeof(TW).Name}>", a => a.LoadStreamKernel<ArrayView<float>, TW, ArrayView<float>, int, int>(MatMulKernel.Run));
                int gy = (rows + MatMulKernel.RowTile - 1) / MatMulKernel.RowTile;
                k(new KernelConfig(new Index2D(gx, gy), new Index2D(group, 1)), x.View, reader, y.View, rows, outFeatures);
            }
        }
    }

    /// <summary>The tiled GEMM's shape for this device (speed only: every shape reduces identically).</summary>
    internal GemmArgs GemmTile(int rows, int outFeatures)
    {
        int warps = Math.Max(1, Accelerator.MaxNumThreadsPerGroup / Accelerator.WarpSize);
        bool cpu = Kind == IlgpuDeviceKind.Cpu;
        // 4 x 4 warps of 4 x 4 outputs: 16 x 16 tiles on a GPU; one or two warps on the CPU accelerator.
        int wr = cpu ? 1 : Math.Min(4, warps);
        int wf = cpu ? Math.Min(2, warps) : Math.Max(1, Math.Min(4, warps / wr));
        return new GemmArgs { Rows = rows, OutFeatures = outFeatures, WarpRows = wr, WarpFeatures = wf, KSteps = cpu ? 2 : 4 };
    }

    private readonly struct BiasOp(IlgpuBackend b, IlgpuActivation y, int rows) : IReaderOp
    {
        public void Run<TW>(TW reader) where TW : struct, IWeightReader
        {
            var k = b._kernels.Get($"add_bias<{typeof(TW).Name}>", a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, TW, int>(AddBiasKernel.Run));
            k(rows * y.Cols, y.View, reader, y.Cols);
        }
    }

    public void Attention(IActivation q, IKvCache cache, int layer, AttentionShape shape, IActivation output)
    {
        var m = Meta;
        if (m.NumTokens == 0) return;
        var c = (IlgpuKvCache)cache;
        var args = AttentionConfig(shape, c.Shape.BlockSize, m.MaxBlocksPerSeq);
        _step.EnsureItems(args.TileTokens, args.PartitionKeys, AttentionSplit);
        args.MaxParts = _step.MaxSplitParts;
        var partials = Partials((long)_step.NumSplitSlots * shape.NumHeads * args.MaxParts * args.PartialFloats);
        var config = new KernelConfig(new Index2D(_step.NumItems, shape.NumKvHeads), new Index2D(AttentionGroup, 1), SharedMemoryConfig.RequestDynamic<float>(args.SharedFloats));
        if (c.IsF16) Attention(config, q, c.K16(layer), c.V16(layer), output, partials, args);
        else Attention(config, q, c.K32(layer), c.V32(layer), output, partials, args);
        if (_step.NumSplitSlots == 0) return;
        var merge = _kernels.Get("split_kv_merge", a => a.LoadStreamKernel<ArrayView<float>, ArrayView<int>, ArrayView<int>, ArrayView<float>, AttentionArgs>(SplitKvMergeKernel.Run));
        int group = Math.Min(AttentionGroup, FloorPow2(shape.HeadDim));
        merge(new KernelConfig(new Index2D(_step.NumSplitSlots, shape.NumHeads), new Index2D(group, 1)), partials, _step.SplitRows, _step.Positions, ((IlgpuActivation)output).View, args);
    }

    private void Attention<TKv>(KernelConfig config, IActivation q, TKv kCache, TKv vCache, IActivation output, ArrayView<float> partials, AttentionArgs args)
        where TKv : struct, IKvView
    {
        var k = _kernels.Get($"paged_attention<{typeof(TKv).Name}>", a => a.LoadStreamKernel<ArrayView<float>, TKv, TKv, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<int>, ArrayView<int>, AttentionArgs>(PagedAttentionKernel.Run));
        k(config, ((IlgpuActivation)q).View, kCache, vCache, ((IlgpuActivation)output).View, partials, _step.Items, _step.Positions, _step.BlockTables, args);
    }

    // Grows, never shrinks: its size follows the step's decode count and longest split context.
    private ArrayView<float> Partials(long floats)
    {
        floats = Math.Max(floats, 1);
        if (_partials is null || _partials.Length < floats)
        {
            _partials?.Dispose();
            _partials = Accelerator.Allocate1D<float>(floats);
        }
        return _partials.View.AsContiguous();
    }

    /// <summary>Tile sizes that fit the device's shared memory (they change speed, never a query's result) and the fixed KV partition length.</summary>
    internal AttentionArgs AttentionConfig(AttentionShape shape, int blockSize, int maxBlocksPerSeq)
    {
        int keyChunk = 1;
        int maxChunk = Kind == IlgpuDeviceKind.Cpu ? 8 : 32;
        for (int c = 2; c <= Math.Min(blockSize, maxChunk); c *= 2)
            if (blockSize % c == 0) keyChunk = c;
        int ratio = shape.NumHeads / shape.NumKvHeads;
        int d = shape.HeadDim;
        int budget = (int)Math.Min(Accelerator.MaxSharedMemoryPerGroup, 48 * 1024) / sizeof(float);
        int rowsFit = (budget - 2 * keyChunk * d) / (2 * d + keyChunk + 7);
        int maxTokens = Kind == IlgpuDeviceKind.Cpu ? 4 : 16;
        int tileTokens = Math.Clamp(rowsFit / ratio, 1, maxTokens);
        var args = new AttentionArgs
        {
            NumHeads = shape.NumHeads, NumKvHeads = shape.NumKvHeads, HeadDim = d, Scale = shape.Scale,
            BlockSize = blockSize, MaxBlocksPerSeq = maxBlocksPerSeq, TileTokens = tileTokens, KeyChunk = keyChunk,
            PartitionKeys = AttentionPartitionBlocks * blockSize, MaxParts = 1,
        };
        if (args.SharedFloats * sizeof(float) > Accelerator.MaxSharedMemoryPerGroup)
            throw new NotSupportedException($"attention with head dim {d} and GQA ratio {ratio} needs {args.SharedFloats * 4} B of shared memory");
        return args;
    }
}
