using ILGPU;

namespace Inference.Kernels.Ilgpu.Kernels;

/// <summary>Scatters each token's K and V row to its slot in the layer's paged pool.</summary>
public static class StoreKvKernel
{
    public static void Run<TKv>(Index1D i, ArrayView<float> k, ArrayView<float> v, ArrayView<int> slotMapping,
        TKv kCache, TKv vCache, int kvDim) where TKv : struct, IKvView
    {
        int t = i / kvDim;
        int c = i - t * kvDim;
        long dst = (long)slotMapping[t] * kvDim + c;
        kCache.Store(dst, k[i]);
        vCache.Store(dst, v[i]);
    }
}
