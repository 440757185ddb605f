namespace Inference.Kernels.Cpu;

/// <summary>
/// The integer path's copy of an int8 / int4 weight, rows interleaved (as llama.cpp repacks Q4_0 / Q8_0): rows
/// go in units of sixteen, two halves of eight; per unit and 32-block, each half is eight steps v (0..7) of one
/// 256-bit vector whose int32 lane r holds row r's four weights at positions 4v..4v+3, as unsigned bytes (int8 +
/// 128; int4 raw nibbles, steps 4..7 in the high nibbles of steps 0..3). One vpdpbusd of a step against the
/// activation's four bytes broadcast adds four products to each of eight outputs, so a block's dot ends in one
/// lane per output and the float work (convert, scale, FMA) is done once per eight outputs instead of once per
/// output. Both halves of a block sit next to each other, so a unit is read as one stream (two streams, one per
/// half, ran at 2/3 of the speed).
/// </summary>
internal sealed unsafe class InterleavedWeight : IDisposable
{
    /// <summary>Rows per unit: two halves of eight, one vector lane per row.</summary>
    public const int UnitRows = 16;

    /// <summary>Rows per half (the lanes of one vector).</summary>
    public const int HalfRows = 8;

    private NativeBuffer? _data, _scales, _zeros;

    /// <summary>Rows of the source weight (the last unit may be padded).</summary>
    public int Rows { get; }

    public int Blocks { get; }

    /// <summary>Bytes of one block of one half: 256 (int8) or 128 (int4); a unit's block is twice that.</summary>
    public int HalfBytes { get; }

    /// <summary>[unit][block][half][HalfBytes].</summary>
    public byte* Data => (byte*)_data!.Pointer;

    /// <summary>Int8: [unit][16] row scales. Int4: [unit][block][16] F32 group scales (repeated for groups over 32).</summary>
    public float* Scales => (float*)_scales!.Pointer;

    /// <summary>Int4 with zero points: [unit][block][16] bytes; else null.</summary>
    public byte* ZeroPoints => _zeros is null ? null : (byte*)_zeros.Pointer;

    public bool Int4 => HalfBytes == 128;

    /// <summary>Units of sixteen rows (the last may be padded).</summary>
    public int Units => (Rows + UnitRows - 1) / UnitRows;

    private InterleavedWeight(HostWeight w)
    {
        Rows = w.Rows;
        Blocks = w.Cols / ActivationQuantizer.Block;
        HalfBytes = w.Format == WeightFormat.Int8 ? 256 : 128;
        long units = Units;
        _data = new NativeBuffer(Math.Max(1, units * Blocks * 2 * HalfBytes));
        _scales = new NativeBuffer(Math.Max(1, units * (Int4 ? Blocks : 1) * UnitRows * 4));
        if (Int4 && w.ZeroPoints != null) _zeros = new NativeBuffer(Math.Max(1, units * Blocks * UnitRows));
    }

    /// <summary>Packs <paramref name="w"/> (int8, or int4 with groups a multiple of 32; K a multiple of 32), units in parallel.</summary>
    public static InterleavedWeight From(HostWeight w)
    {
        var p = new InterleavedWeight(w);
        if ((long)w.Rows * w.Cols < (1 << 20))
            for (int u = 0; u < p.Units; u++) p.PackUnit(w, u);
        else
            Parallel.For(0, p.Units, u => p.PackUnit(w, u));
        return p;
    }

    /// <summary>Where row i of a unit (0..15) starts in the unit's block b: its half, then its lane.</summary>
    private byte* At(int u, int b, int i) => Data + ((long)u * Blocks + b) * 2 * HalfBytes + i / HalfRows * HalfBytes + i % HalfRows * 4;

    private void PackUnit(HostWeight w, int u)
    {
        int k = w.Cols, groupsPerRow = Int4 ? k / w.GroupSize : 0;
        for (int i = 0; i < UnitRows; i++)
        {
            long o = (long)u * UnitRows + i;
            bool real = o < Rows; // padding rows stay zero (scale 0): their outputs are never written out
            if (!Int4)
            {
                if (real) Scales[u * UnitRows + i] = ((float*)w.Scales)[o];
                for (int b = 0; b < Blocks; b++)
                {
                    byte* dst = At(u, b, i);
                    sbyte* src = (sbyte*)w.Data + o * k + b * 32;
                    for (int v = 0; v < 8; v++)
                        for (int t = 0; t < 4; t++)
                            dst[32 * v + t] = real ? (byte)(src[4 * v + t] + 128) : (byte)128;
                }
                continue;
            }
            if (!real) continue;
            for (int b = 0; b < Blocks; b++)
            {
                long meta = ((long)u * Blocks + b) * UnitRows + i;
                long group = o * groupsPerRow + b * 32 / w.GroupSize;
                Scales[meta] = HalfBits.ToSingle(((ushort*)w.Scales)[group]);
                if (ZeroPoints != null) ZeroPoints[meta] = w.ZeroPoints[group];
                byte* dst = At(u, b, i);
                byte* src = (byte*)w.Data + (o * k + b * 32) / 2;
                for (int v = 0; v < 4; v++)
                    for (int t = 0; t < 4; t++)
                        dst[32 * v + t] = (byte)(Nibble(src, 4 * v + t) | Nibble(src, 16 + 4 * v + t) << 4);
            }
        }
    }

    /// <summary>Element e of a block of int4 bytes: even elements in the low nibbles.</summary>
    private static int Nibble(byte* block, int e) => (block[e >> 1] >> ((e & 1) * 4)) & 0xF;

    public void Dispose()
    {
        _data?.Dispose();
        _scales?.Dispose();
        _zeros?.Dispose();
        _data = _scales = _zeros = null;
    }
}
