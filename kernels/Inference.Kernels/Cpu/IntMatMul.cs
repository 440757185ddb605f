using System.Runtime.Intrinsics.X86;

namespace Inference.Kernels.Cpu;

/// <summary>
/// The int8-activation path of <see cref="MatMulKernel"/> for int8 and int4 weights (as llama.cpp's
/// Q8_0 x Q8_0 / Q4_0): x rows are quantized per 32-block once per call, then each band of output features
/// is computed with integer dot products against the weight's <see cref="InterleavedWeight"/> copy. Decode
/// (few rows) and prefill (4-row tiles over a band held in L2) reduce every element identically
/// (<see cref="InterleavedDot"/>), so results do not depend on the batch.
/// </summary>
internal static unsafe class IntMatMul
{
    [ThreadStatic] private static byte[]? t_rows;

    /// <summary>Output features a band starts on: a whole <see cref="InterleavedWeight"/> unit.</summary>
    public const int Align = InterleavedWeight.UnitRows;

    /// <summary>
    /// Whether this weight takes the integer path (else the F32-widening path runs). Only with AVX-VNNI: without
    /// it the integer dots are far slower than widening, so such CPUs keep the widening path (one path per
    /// machine, so batch invariance holds on each).
    /// </summary>
    public static bool Supports(HostWeight w) => AvxVnni.IsSupported && w.Cols > 0 && w.Cols % ActivationQuantizer.Block == 0 && w.Format switch
    {
        WeightFormat.Int8 => true,
        WeightFormat.Int4 => w.GroupSize >= 32 && w.GroupSize % 32 == 0 && w.Cols % w.GroupSize == 0,
        _ => false,
    };

    /// <summary>The quantized x rows of one call (null buffer when no weight takes the integer path).</summary>
    public readonly struct Rows(byte* buffer, int k)
    {
        public bool Has(HostWeight w) => buffer != null && w.Cols == k && Supports(w);

        public QuantizedRow this[int row] => ActivationQuantizer.At(buffer, k, row);
    }

    /// <summary>Quantizes x when any of a, b, c takes the integer path (rows in parallel when there are many).</summary>
    public static Rows Prepare(WorkerPool pool, CpuActivation x, int rows, HostWeight? a, HostWeight? b, HostWeight? c)
    {
        if (rows == 0 || !(Takes(a) || Takes(b) || Takes(c))) return default;
        int k = x.Cols;
        var job = new QuantizeJob(x, ActivationQuantizer.Buffer(ref t_rows, rows * ActivationQuantizer.RowBytes(k)));
        if (rows < MatMulKernel.TileRows)
            for (int r = 0; r < rows; r++) job.Execute(r);
        else
            pool.Run(rows, ref job);
        return new Rows(job.Buffer, k);
    }

    private static bool Takes(HostWeight? w) => w is not null && Supports(w);

    private readonly struct QuantizeJob(CpuActivation x, byte* buffer) : IParallelJob
    {
        public byte* Buffer => buffer;

        public void Execute(int r) => ActivationQuantizer.Quantize(x.Row(r), x.Cols, ActivationQuantizer.At(buffer, x.Cols, r));
    }

    /// <summary>y[r, o0..o1) for every x row; o0 is a multiple of <see cref="Align"/>.</summary>
    public static void Band(in Rows xs, HostWeight w, CpuActivation y, int rows, int o0, int o1)
    {
        var packed = w.Interleaved;
        if (w.Format == WeightFormat.Int8)
            Band<Int8Packed>(packed, xs, y, rows, o0, o1);
        else if (w.ZeroPoints == null)
            Band<Int4Packed<Symmetric>>(packed, xs, y, rows, o0, o1);
        else
            Band<Int4Packed<WithZeroPoints>>(packed, xs, y, rows, o0, o1);
    }

    private static void Band<TF>(InterleavedWeight w, in Rows xs, CpuActivation y, int rows, int o0, int o1)
        where TF : struct, IPackedFormat
    {
        const int U = InterleavedWeight.UnitRows;
        long ldy = y.Cols;
        int u0 = o0 / U, u1 = (o1 + U - 1) / U;
        // A unit cut by the end of the matrix (rows not a multiple of 16) is computed into a scratch tile.
        int whole = o1 % U == 0 ? u1 : u1 - 1;
        float* part = stackalloc float[4 * U];
        int r = 0;
        // x rows outer: four quantized rows stay in L1 while the band's weights (in L2) are swept under them.
        for (; r + 4 <= rows; r += 4)
        {
            QuantizedRow x0 = xs[r], x1 = xs[r + 1], x2 = xs[r + 2], x3 = xs[r + 3];
            float* yr = y.Data + r * ldy;
            for (int u = u0; u < whole; u++)
                InterleavedDot.Tile<TF>(w, u, x0, x1, x2, x3, yr + u * U, ldy);
            if (whole < u1)
            {
                InterleavedDot.Tile<TF>(w, whole, x0, x1, x2, x3, part, U);
                MatMulKernel.CopyCut(part, U, 4, o1 - whole * U, yr + whole * U, ldy);
            }
        }
        for (; r < rows; r++)
        {
            var x = xs[r];
            float* yr = y.Data + r * ldy;
            for (int u = u0; u < whole; u++)
                InterleavedDot.Row<TF>(w, u, x, yr + u * U);
            if (whole < u1)
            {
                InterleavedDot.Row<TF>(w, whole, x, part);
                MatMulKernel.CopyCut(part, U, 1, o1 - whole * U, yr + whole * U, ldy);
            }
        }
    }
}
