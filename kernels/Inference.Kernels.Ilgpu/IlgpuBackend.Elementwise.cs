using ILGPU;
using ILGPU.Runtime;
using Inference.Kernels.Ilgpu.Kernels;

namespace Inference.Kernels.Ilgpu;

/// <summary>The one-thread-per-element ops.</summary>
public sealed partial class IlgpuBackend
{
    public void Embed(IDeviceWeight table, IActivation output)
    {
        var o = (IlgpuActivation)output;
        int n = Meta.NumTokens * o.Cols;
        if (n == 0) return;
        var op = new EmbedOp(this, o.View);
        ReaderDispatch.Run((IlgpuWeight)table, ref op);
    }

    private readonly struct EmbedOp(IlgpuBackend b, ArrayView<float> output) : IReaderOp
    {
        public void Run<TW>(TW reader) where TW : struct, IWeightReader
        {
            var k = b._kernels.Get($"embed<{typeof(TW).Name}>", a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<int>, TW, ArrayView<float>>(EmbedKernel.Run));
            k(b.Meta.NumTokens * reader.Cols, b._step.TokenIds, reader, output);
        }
    }

    public void Add(IActivation x, IActivation y, int rows)
    {
        var xa = (IlgpuActivation)x;
        int n = rows * xa.Cols;
        if (n == 0) return;
        var k = _kernels.Get("add", a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>>(AddKernel.Run));
        k(n, xa.View, ((IlgpuActivation)y).View);
    }

    public void SiluMul(IActivation gate, IActivation up, IActivation output, int rows)
    {
        var g = (IlgpuActivation)gate;
        int n = rows * g.Cols;
        if (n == 0) return;
        var k = _kernels.Get("silu_mul", a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>>(SiluMulKernel.Run));
        k(n, g.View, ((IlgpuActivation)up).View, ((IlgpuActivation)output).View);
    }

    public void Rope(IActivation q, IActivation k, RopeTable table, int numHeads, int numKvHeads, int rows)
    {
        int half = table.HeadDim / 2;
        int n = rows * (numHeads + numKvHeads) * half;
        if (n == 0) return;
        if (!_rope.TryGetValue(table, out var invFreq))
        {
            invFreq = Accelerator.Allocate1D(table.InvFreq);
            _rope[table] = invFreq;
        }
        var kernel = _kernels.Get("rope", a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<float>, int, int, int>(RopeKernel.Run));
        kernel(n, ((IlgpuActivation)q).View, ((IlgpuActivation)k).View, _step.Positions, invFreq.View.AsContiguous(), numHeads, numKvHeads, table.HeadDim);
    }

    public void StoreKv(IActivation k, IActivation v, IKvCache cache, int layer, int rows)
    {
        var c = (IlgpuKvCache)cache;
        int kvDim = c.Shape.KvDim;
        if (rows == 0) return;
        if (c.IsF16) StoreKv(k, v, c.K16(layer), c.V16(layer), rows, kvDim);
        else StoreKv(k, v, c.K32(layer), c.V32(layer), rows, kvDim);
    }

    private void StoreKv<TKv>(IActivation k, IActivation v, TKv kCache, TKv vCache, int rows, int kvDim) where TKv : struct, IKvView
    {
        var kernel = _kernels.Get($"store_kv<{typeof(TKv).Name}>", a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<int>, TKv, TKv, int>(StoreKvKernel.Run));
        kernel(rows * kvDim, ((IlgpuActivation)k).View, ((IlgpuActivation)v).View, _step.SlotMapping, kCache, vCache, kvDim);
    }

    public void GatherSampleRows(IActivation src, IActivation dst)
    {
        var s = (IlgpuActivation)src;
        int n = Meta.NumSample * s.Cols;
        if (n == 0) return;
        var k = _kernels.Get("gather_rows", a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, int>(GatherRowsKernel.Run));
        k(n, s.View, _step.SampleRows, ((IlgpuActivation)dst).View, s.Cols);
    }
}
