namespace Inference.Kernels.Cpu;

/// <summary>
/// The integer path's copy of an int8 / int4 weight, eight rows interleaved (as llama.cpp repacks Q4_0 / Q8_0):
/// per group of eight rows and 32-block, step v (0..7) is one 256-bit vector whose int32 lane r holds row r's
/// four weights at positions 4v..4v+3, as unsigned bytes (int8 + 128; int4 raw nibbles, steps 4..7 in the high
/// nibbles of steps 0..3). One vpdpbusd of a step against the activation's four bytes broadcast adds four
/// products to each of eight outputs, so a block's dot ends in one lane per output and the float work (convert,
/// scale, FMA) is done once per eight outputs instead of once per output.
/// </summary>
internal sealed unsafe class InterleavedWeight : IDisposable
{
    /// <summary>Rows per group.</summary>
    public const int GroupRows = 8;

    private NativeBuffer? _data, _scales, _zeros;

    /// <summary>Rows of the source weight (the last group may be padded).</summary>
    public int Rows { get; }

    public int Blocks { get; }

    /// <summary>Bytes of one block of one group: 256 (int8) or 128 (int4).</summary>
    public int BlockBytes { get; }

    /// <summary>[group][block][BlockBytes].</summary>
    public byte* Data => (byte*)_data!.Pointer;

    /// <summary>Int8: [group][8] row scales. Int4: [group][block][8] F32 group scales (repeated for groups over 32).</summary>
    public float* Scales => (float*)_scales!.Pointer;

    /// <summary>Int4 with zero points: [group][block][8] bytes; else null.</summary>
    public byte* ZeroPoints => _zeros is null ? null : (byte*)_zeros.Pointer;

    public bool Int4 => BlockBytes == 128;

    private InterleavedWeight(HostWeight w)
    {
        Rows = w.Rows;
        Blocks = w.Cols / ActivationQuantizer.Block;
        BlockBytes = w.Format == WeightFormat.Int8 ? 256 : 128;
        long groups = (Rows + GroupRows - 1) / GroupRows;
        _data = new NativeBuffer(Math.Max(1, groups * Blocks * BlockBytes));
        _scales = new NativeBuffer(Math.Max(1, groups * (Int4 ? Blocks : 1) * GroupRows * 4));
        if (Int4 && w.ZeroPoints != null) _zeros = new NativeBuffer(Math.Max(1, groups * Blocks * GroupRows));
    }

    /// <summary>Packs <paramref name="w"/> (int8, or int4 with 32·2^n groups; K a multiple of 32), groups in parallel.</summary>
    public static InterleavedWeight From(HostWeight w)
    {
        var p = new InterleavedWeight(w);
        int groups = (p.Rows + GroupRows - 1) / GroupRows;
        if ((long)w.Rows * w.Cols < (1 << 20))
            for (int g = 0; g < groups; g++) p.PackGroup(w, g);
        else
            Parallel.For(0, groups, g => p.PackGroup(w, g));
        return p;
    }

    private void PackGroup(HostWeight w, int g)
    {
        int k = w.Cols, groupsPerRow = Int4 ? k / w.GroupSize : 0;
        for (int r = 0; r < GroupRows; r++)
        {
            long o = (long)g * GroupRows + r;
            bool real = o < Rows; // padding rows stay zero (scale 0): their outputs are never written out
            if (!Int4)
            {
                if (real) Scales[g * GroupRows + r] = ((float*)w.Scales)[o];
                for (int b = 0; b < Blocks; b++)
                {
                    byte* dst = Data + ((long)g * Blocks + b) * BlockBytes + r * 4;
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
                long meta = ((long)g * Blocks + b) * GroupRows + r;
                long group = o * groupsPerRow + b * 32 / w.GroupSize;
                Scales[meta] = HalfBits.ToSingle(((ushort*)w.Scales)[group]);
                if (ZeroPoints != null) ZeroPoints[meta] = w.ZeroPoints[group];
                byte* dst = Data + ((long)g * Blocks + b) * BlockBytes + r * 4;
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
