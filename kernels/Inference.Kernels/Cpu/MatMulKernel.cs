using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Inference.Kernels.Cpu;

/// <summary>
/// y = x W^T over row tiles of W: each work item owns a band of output features, streams its W rows once
/// (widening F16/BF16/int rows into a per-thread F32 tile) and dots them with every x row.
/// </summary>
public static unsafe class MatMulKernel
{
    [ThreadStatic] private static float[]? t_tile;

    public static void Run(WorkerPool pool, CpuActivation x, HostWeight w, CpuActivation y, int rows)
    {
        int outFeatures = w.Rows;
        // Enough bands for load balance across threads, each a multiple of 4 rows for Dot4.
        int band = Math.Max(4, (outFeatures / (pool.Threads * 8) + 3) & ~3);
        int items = (outFeatures + band - 1) / band;
        var job = new Job(x, w, y, rows, band);
        pool.Run(items, ref job);
    }

    private readonly struct Job(CpuActivation x, HostWeight w, CpuActivation y, int rows, int band) : IParallelJob
    {
        public void Execute(int item)
        {
            int k = w.Cols;
            int o0 = item * band;
            int o1 = Math.Min(w.Rows, o0 + band);
            float* wf = null;
            float[]? tile = null;
            if (w.Format != WeightFormat.F32)
            {
                tile = t_tile;
                if (tile is null || tile.Length < 4 * k) t_tile = tile = GC.AllocateUninitializedArray<float>(4 * k, pinned: true);
                wf = (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(tile));
            }
            int ldy = y.Cols;
            int o = o0;
            for (; o + 4 <= o1; o += 4)
            {
                float* w0, w1, w2, w3;
                if (tile is null)
                {
                    float* wb = (float*)w.Data + (long)o * k;
                    w0 = wb; w1 = wb + k; w2 = wb + 2 * k; w3 = wb + 3 * k;
                }
                else
                {
                    for (int j = 0; j < 4; j++) w.ReadRow(o + j, new Span<float>(wf + j * k, k));
                    w0 = wf; w1 = wf + k; w2 = wf + 2 * k; w3 = wf + 3 * k;
                }
                for (int r = 0; r < rows; r++)
                    SimdDot.Dot4(x.Row(r), w0, w1, w2, w3, k, y.Data + (long)r * ldy + o);
            }
            for (; o < o1; o++)
            {
                float* wr;
                if (tile is null) wr = (float*)w.Data + (long)o * k;
                else { w.ReadRow(o, new Span<float>(wf, k)); wr = wf; }
                for (int r = 0; r < rows; r++)
                    y.Data[(long)r * ldy + o] = SimdDot.Dot(x.Row(r), wr, k);
            }
        }
    }
}
