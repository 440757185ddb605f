using System.Runtime.Intrinsics.X86;

namespace Inference.Kernels.Cpu;

/// <summary>
/// The int8-activation path of <see cref="MatMulKernel"/> for int8 and int4 weights (as llama.cpp's
/// Q8_0 x Q8_0 / Q4_0): x rows are quantized per 32-block once per call, then each band of output
/// features is computed with integer dot products. Decode (few rows) and prefill (4x4 tiles over a band
/// held in L2) reduce every element identically, so results do not depend on the batch.
/// </summary>
internal static unsafe class IntMatMul
{
    [ThreadStatic] private static byte[]? t_natural;
    [ThreadStatic] private static byte[]? t_nibbles;

    /// <summary>
    /// Whether this weight takes the integer path (else the F32-widening path runs). Only with AVX-VNNI: the
    /// scalar definition gives the same values but is far slower than widening, so CPUs without VNNI keep
    /// the widening path (one path per machine, so batch invariance holds on each).
    /// </summary>
    public static bool Supports(HostWeight w) => AvxVnni.IsSupported && w.Cols > 0 && w.Cols % ActivationQuantizer.Block == 0 && w.Format switch
    {
        WeightFormat.Int8 => true,
        WeightFormat.Int4 => w.GroupSize >= 32 && w.GroupSize % 32 == 0 && System.Numerics.BitOperations.IsPow2(w.GroupSize / 32),
        _ => false,
    };

    private static BlockLayout LayoutOf(HostWeight w) => w.Format == WeightFormat.Int8 ? BlockLayout.Natural : BlockLayout.Nibbles;

    /// <summary>The quantized x rows of one call, in each layout its weights need (null where none does).</summary>
    public readonly struct Rows(byte* natural, byte* nibbles, int k)
    {
        private readonly byte* _natural = natural;
        private readonly byte* _nibbles = nibbles;

        public bool Has(HostWeight w) => Supports(w) && w.Cols == k && (LayoutOf(w) == BlockLayout.Natural ? _natural : _nibbles) != null;

        public QuantizedRow At(BlockLayout layout, int row) => In(layout)[row];

        public LayoutRows In(BlockLayout layout) => new(layout == BlockLayout.Natural ? _natural : _nibbles, k);
    }

    /// <summary>The quantized x rows in one layout.</summary>
    public readonly struct LayoutRows(byte* buffer, int k)
    {
        public QuantizedRow this[int row] => ActivationQuantizer.At(buffer, k, row);
    }

    /// <summary>Quantizes x for the weights among a, b, c that take the integer path (rows in parallel when there are many).</summary>
    public static Rows Prepare(WorkerPool pool, CpuActivation x, int rows, HostWeight? a, HostWeight? b, HostWeight? c)
    {
        bool natural = false, nibbles = false;
        Note(a, ref natural, ref nibbles);
        Note(b, ref natural, ref nibbles);
        Note(c, ref natural, ref nibbles);
        if (!natural && !nibbles || rows == 0) return default;
        int k = x.Cols;
        long bytes = rows * ActivationQuantizer.RowBytes(k);
        var job = new QuantizeJob(x,
            natural ? ActivationQuantizer.Buffer(ref t_natural, bytes) : null,
            nibbles ? ActivationQuantizer.Buffer(ref t_nibbles, bytes) : null);
        if (rows < MatMulKernel.TileRows)
            for (int r = 0; r < rows; r++) job.Execute(r);
        else
            pool.Run(rows, ref job);
        return new Rows(job.Natural, job.Nibbles, k);
    }

    private static void Note(HostWeight? w, ref bool natural, ref bool nibbles)
    {
        if (w is null || !Supports(w)) return;
        if (LayoutOf(w) == BlockLayout.Natural) natural = true;
        else nibbles = true;
    }

    private readonly struct QuantizeJob(CpuActivation x, byte* natural, byte* nibbles) : IParallelJob
    {
        public byte* Natural => natural;
        public byte* Nibbles => nibbles;

        public void Execute(int r)
        {
            if (natural != null) ActivationQuantizer.Quantize(x.Row(r), x.Cols, ActivationQuantizer.At(natural, x.Cols, r), BlockLayout.Natural);
            if (nibbles != null) ActivationQuantizer.Quantize(x.Row(r), x.Cols, ActivationQuantizer.At(nibbles, x.Cols, r), BlockLayout.Nibbles);
        }
    }

    /// <summary>y[r, o0..o1) for every x row.</summary>
    public static void Band(in Rows xs, HostWeight w, CpuActivation y, int rows, int o0, int o1)
    {
        if (!AvxVnni.IsSupported)
            Scalar(xs, w, y, rows, o0, o1);
        else if (w.Format == WeightFormat.Int8)
            Band(new Int8Weights(w), xs.In(BlockLayout.Natural), w.Cols, y, rows, o0, o1);
        else if (w.ZeroPoints == null)
            Int4<Symmetric>(xs, w, y, rows, o0, o1);
        else
            Int4<WithZeroPoints>(xs, w, y, rows, o0, o1);
    }

    private static void Int4<TZ>(in Rows xs, HostWeight w, CpuActivation y, int rows, int o0, int o1) where TZ : struct, IZeroPoints
    {
        // Many rows sweep the band many times: unpack it once. Few rows read each weight once: unpack in registers.
        if (rows >= MatMulKernel.TileRows)
            Band(new RepackedInt4<TZ>(w, o0, o1), xs.In(BlockLayout.Nibbles), w.Cols, y, rows, o0, o1);
        else
            Band(new Int4Weights<TZ>(w, o0, o1), xs.In(BlockLayout.Nibbles), w.Cols, y, rows, o0, o1);
    }

    private static void Scalar(in Rows xs, HostWeight w, CpuActivation y, int rows, int o0, int o1)
    {
        var layout = LayoutOf(w);
        for (int r = 0; r < rows; r++)
            for (int o = o0; o < o1; o++)
                y.Data[(long)r * y.Cols + o] = IntDotScalar.Dot(xs.At(layout, r), w, o, layout);
    }

    private static void Band<TW>(TW w, LayoutRows xs, int k, CpuActivation y, int rows, int o0, int o1)
        where TW : struct, IIntWeights
    {
        int blocks = k / ActivationQuantizer.Block;
        long ldy = y.Cols;
        int n4 = o0 + ((o1 - o0) & ~3);
        int r = 0;
        // x rows outer: four quantized rows stay in L1 while the band's weights (in L2) are swept under them.
        for (; r + 4 <= rows; r += 4)
        {
            QuantizedRow x0 = xs[r], x1 = xs[r + 1], x2 = xs[r + 2], x3 = xs[r + 3];
            float* yr = y.Data + r * ldy;
            if (Avx512F.IsSupported)
                for (int o = o0; o < n4; o += 4)
                    IntDotKernel.Tile4x4Wide(w, x0, x1, x2, x3, o, blocks, yr + o, ldy);
            else
                for (int o = o0; o < n4; o += 4)
                    IntDotKernel.Tile4x4(w, x0, x1, x2, x3, o, blocks, yr + o, ldy);
            for (int o = n4; o < o1; o++)
            {
                yr[o] = IntDotKernel.Dot1x1(w, x0, o, blocks);
                yr[ldy + o] = IntDotKernel.Dot1x1(w, x1, o, blocks);
                yr[2 * ldy + o] = IntDotKernel.Dot1x1(w, x2, o, blocks);
                yr[3 * ldy + o] = IntDotKernel.Dot1x1(w, x3, o, blocks);
            }
        }
        for (; r < rows; r++)
        {
            var x = xs[r];
            float* yr = y.Data + r * ldy;
            for (int o = o0; o < n4; o += 4)
                IntDotKernel.Row1x4(w, x, o, blocks, yr + o);
            for (int o = n4; o < o1; o++)
                yr[o] = IntDotKernel.Dot1x1(w, x, o, blocks);
        }
    }
}
