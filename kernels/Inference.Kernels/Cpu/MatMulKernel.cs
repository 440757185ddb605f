using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Inference.Kernels.Cpu;

/// <summary>
/// y = x W^T, parallel over bands of output features. F32 weights on AVX-512 CPUs are read from their
/// <see cref="F32Panels"/> (outer-product kernels, <see cref="PanelDot"/>); int8/int4 weights whose K is a
/// multiple of 32 take <see cref="IntMatMul"/> (int8 activations, integer dots). The rest: few rows (decode)
/// stream each band's W rows once, int8/int4 rows widened in registers (<see cref="QuantDot"/>); many rows
/// (prefill) hold the band in L2 as F32 (widened once) and sweep it with the 4x4 register-tiled micro-kernel.
/// Every path reduces each output element in one order fixed per weight, so results do not depend on the batch.
/// </summary>
public static unsafe class MatMulKernel
{
    /// <summary>Rows at which the tiled path starts: below it the weights are streamed once per row group.</summary>
    public const int TileRows = 4;

    // F32 bytes of W held per band on the tiled path: about half of a 1 MiB L2, leaving room for x rows.
    private const int BandBytes = 256 * 1024;

    // Weight bytes per item on the decode path (at least one tile of the path that runs: 64 rows of F32 panels, 16
    // of the integer path): small enough that a delayed thread's run is taken over in small pieces, large enough
    // that claiming an item (one uncontended compare-exchange) costs nothing next to it.
    private const int DecodeItemBytes = 24 * 1024;

    [ThreadStatic] private static float[]? t_tile;

    /// <summary>
    /// Copies the first <paramref name="cols"/> columns of a rows x lds scratch tile into y (stride ldy): how the
    /// packed paths write a tile cut by the end of the matrix, which they compute whole into scratch.
    /// </summary>
    internal static void CopyCut(float* tile, int lds, int rows, int cols, float* y, long ldy)
    {
        for (int i = 0; i < rows; i++)
            new ReadOnlySpan<float>(tile + (long)i * lds, cols).CopyTo(new Span<float>(y + i * ldy, cols));
    }

    /// <summary>Whether an F32 weight (a matrix, not a vector) is read as <see cref="F32Panels"/> on this CPU.</summary>
    public static bool TakesPanels(HostWeight w) => w.Format == WeightFormat.F32 && w.Rows > 1 && F32Panels.Supported;

    public static void Run(WorkerPool pool, CpuActivation x, HostWeight w, CpuActivation y, int rows) =>
        Run(pool, x, rows, new Target(w, y), default, default);

    /// <summary>One weight and its output; Weight null means "absent".</summary>
    public readonly record struct Target(HostWeight? Weight, CpuActivation? Output);

    /// <summary>
    /// Up to three matmuls of the same x (Q/K/V, gate/up) as one parallel job: one dispatch and one join
    /// instead of three, and the bands of all weights balance across threads together.
    /// </summary>
    public static void Run(WorkerPool pool, CpuActivation x, int rows, Target a, Target b, Target c)
    {
        var xq = IntMatMul.Prepare(pool, x, rows, a.Weight, b.Weight, c.Weight);
        var job = new Job(x, rows, xq, Part.Of(a, rows, pool.Threads, 0), default, default);
        job = job with { B = Part.Of(b, rows, pool.Threads, job.A.End), };
        job = job with { C = Part.Of(c, rows, pool.Threads, job.B.End) };
        // Decode: each thread streams a contiguous run of the items (the weights' rows in memory order) and then
        // helps with the others' ends; measured end to end against the guided bands that came before (110m, batch 1,
        // 3 alternating pairs): int8 decode steps 1.89-2.00 vs 2.21-2.33 ms, int4 1.59-1.61 vs 1.86-1.92 ms.
        if (rows < TileRows) pool.RunContiguous(job.C.End, ref job);
        else pool.Run(job.C.End, ref job);
    }

    /// <summary>A weight's share of the job: items [First, End), each a band of Band output features (the last may be cut).</summary>
    private readonly record struct Part(HostWeight? W, CpuActivation? Y, int Band, int First, int End)
    {
        public static Part Of(Target t, int rows, int threads, int first)
        {
            if (t.Weight is not { } w || t.Output is null) return new Part(null, null, 1, first, first);
            int outFeatures = w.Rows, k = w.Cols;
            bool integer = IntMatMul.Supports(w), panels = TakesPanels(w);
            int align = integer ? IntMatMul.Align : panels ? F32Panels.Width : 4; // bands start on whole tiles of the path that runs
            long packedRowBytes = w.Format == WeightFormat.Int4 ? k / 2 : k; // a row of the integer path's interleaved copy
            int band;
            if (rows < TileRows)
            {
                // Decode: small items in memory order; WorkerPool.RunContiguous hands each thread a contiguous run.
                long streamed = integer ? packedRowBytes : panels ? k * 4L : w.RowBytes;
                band = (int)Math.Max(align, (DecodeItemBytes / Math.Max(1, streamed)) & -align);
            }
            else
            {
                long rowBytes = integer ? packedRowBytes : k * 4L; // other paths hold the band in L2 as F32
                int cache = (int)Math.Max(align, BandBytes / Math.Max(1, rowBytes)) & -align;
                int balance = Math.Max(align, (outFeatures / (threads * 2)) & -align);
                band = Math.Min(cache, balance);
            }
            return new Part(w, t.Output, band, first, first + (outFeatures + band - 1) / band);
        }
    }

    private static float* Tile(long floats)
    {
        var tile = t_tile;
        if (tile is null || tile.Length < floats) t_tile = tile = GC.AllocateUninitializedArray<float>((int)Math.Max(floats, 4096), pinned: true);
        return (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(tile));
    }

    private readonly record struct Job(CpuActivation X, int Rows, IntMatMul.Rows Q, Part A, Part B, Part C) : IParallelJob
    {
        public void Execute(int item)
        {
            var p = item < A.End ? A : item < B.End ? B : C;
            int o0 = (item - p.First) * p.Band, o1 = Math.Min(p.W!.Rows, o0 + p.Band);
            if (Q.Has(p.W!))
            {
                IntMatMul.Band(Q, p.W!, p.Y!, Rows, o0, o1);
                return;
            }
            new Band(X, p.W!, p.Y!, Rows).Execute(o0, o1);
        }
    }

    private readonly struct Band(CpuActivation x, HostWeight w, CpuActivation y, int rows)
    {
        public void Execute(int o0, int o1)
        {
            if (TakesPanels(w))
                Panels(w.Panels, o0, o1);
            else if (w.Format == WeightFormat.F32)
                Tiled((float*)w.Data + (long)o0 * w.Cols, o0, o1);
            else if (rows < TileRows && QuantDot.Supports(w))
                Fused(o0, o1);
            else
            {
                int k = w.Cols;
                float* tile = Tile((long)(o1 - o0) * k);
                for (int o = o0; o < o1; o++) WeightTile.Widen(w, o, tile + (long)(o - o0) * k);
                Tiled(tile, o0, o1);
            }
            if (w.Format == WeightFormat.Int8) ApplyRowScales(o0, o1);
        }

        /// <summary>Outputs [o0, o1) (o0 a multiple of 64) from the weight's panels, for every x row.</summary>
        private void Panels(F32Panels w, int o0, int o1)
        {
            const int P = F32Panels.Width, T = PanelDot.TileRows;
            int k = w.Cols;
            long ldy = y.Cols, ldx = x.Cols;
            int p0 = o0 / P, p1 = (o1 + P - 1) / P;
            // A panel cut by the end of the matrix is computed into scratch and copied.
            int whole = o1 % P == 0 ? p1 : p1 - 1;
            float* part = stackalloc float[T * P];
            int r = 0;
            // x rows outer: six rows stay in L1 while the band's panels (in L2) are swept under them.
            for (; r + T <= rows; r += T)
            {
                float* yr = y.Data + r * ldy;
                for (int p = p0; p < whole; p++) PanelDot.Tile(x.Row(r), ldx, w.Panel(p), k, yr + p * P, ldy);
                if (whole < p1)
                {
                    PanelDot.Tile(x.Row(r), ldx, w.Panel(whole), k, part, P);
                    CopyCut(part, P, T, o1 - whole * P, yr + whole * P, ldy);
                }
            }
            // Few rows (decode) or the rest: panels outer, so each panel comes from memory once for all of them.
            if (r == rows) return;
            for (int p = p0; p < p1; p++)
                for (int i = r; i < rows; i++)
                {
                    float* yr = y.Data + i * ldy;
                    if (p < whole)
                        PanelDot.Row(x.Row(i), w.Panel(p), k, yr + p * P);
                    else
                    {
                        PanelDot.Row(x.Row(i), w.Panel(p), k, part);
                        CopyCut(part, P, 1, o1 - p * P, yr + p * P, ldy);
                    }
                }
        }

        /// <summary>Rows of W [o0, o1) as F32 at wf (stride K) against every x row.</summary>
        private void Tiled(float* wf, int o0, int o1)
        {
            int k = w.Cols, ldy = y.Cols, ldx = x.Cols;
            int n4 = o0 + ((o1 - o0) & ~3);
            int r = 0;
            // x rows outer: four x rows stay in L1 while the band (in L2) is swept under them.
            for (; r + 4 <= rows; r += 4)
            {
                float* xr = x.Row(r);
                float* yr = y.Data + (long)r * ldy;
                for (int o = o0; o < n4; o += 4)
                    SimdDot4x4.Run(xr, ldx, wf + (long)(o - o0) * k, k, k, yr + o, ldy);
                for (int o = n4; o < o1; o++)
                    for (int i = 0; i < 4; i++)
                        yr[i * ldy + o] = SimdDot.Dot(xr + i * ldx, wf + (long)(o - o0) * k, k);
            }
            if (rows < TileRows)
            {
                // Decode: one weight row at a time is one memory stream, which the prefetchers keep at
                // full bandwidth; four rows at once (Dot4) measured 10-20% slower here. Same values: Dot4
                // reduces each element exactly as Dot does.
                for (int o = o0; o < o1; o++)
                {
                    float* wr = wf + (long)(o - o0) * k;
                    for (int i = 0; i < rows; i++) y.Data[(long)i * ldy + o] = SimdDot.Dot(x.Row(i), wr, k);
                }
                return;
            }
            for (; r < rows; r++)
            {
                float* xr = x.Row(r);
                float* yr = y.Data + (long)r * ldy;
                for (int o = o0; o < n4; o += 4)
                {
                    float* wb = wf + (long)(o - o0) * k;
                    SimdDot.Dot4(xr, wb, wb + k, wb + 2 * k, wb + 3 * k, k, yr + o);
                }
                for (int o = n4; o < o1; o++) yr[o] = SimdDot.Dot(xr, wf + (long)(o - o0) * k, k);
            }
        }

        /// <summary>Few rows of x against quantized W rows widened in registers; a 4-row remainder goes through a tile.</summary>
        private void Fused(int o0, int o1)
        {
            int k = w.Cols, ldy = y.Cols;
            int n4 = o0 + ((o1 - o0) & ~3);
            for (int o = o0; o < n4; o += 4)
                for (int r = 0; r < rows; r++)
                {
                    if (w.Format == WeightFormat.Int8)
                        QuantDot.Int8Dot4(x.Row(r), (sbyte*)w.Data + (long)o * k, k, k, y.Data + (long)r * ldy + o);
                    else
                        QuantDot.Int4Dot4(x.Row(r), w, o, y.Data + (long)r * ldy + o);
                }
            if (n4 < o1)
            {
                float* tile = Tile((long)(o1 - n4) * k);
                for (int o = n4; o < o1; o++) WeightTile.Widen(w, o, tile + (long)(o - n4) * k);
                for (int r = 0; r < rows; r++)
                    for (int o = n4; o < o1; o++)
                        y.Data[(long)r * ldy + o] = SimdDot.Dot(x.Row(r), tile + (long)(o - n4) * k, k);
            }
        }

        private void ApplyRowScales(int o0, int o1)
        {
            float* scales = (float*)w.Scales;
            for (int r = 0; r < rows; r++)
            {
                float* yr = y.Data + (long)r * y.Cols;
                for (int o = o0; o < o1; o++) yr[o] *= scales[o];
            }
        }
    }
}
