using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Inference.Kernels.Cpu;

/// <summary>
/// A prefill band of int4 weights unpacked once into the bytes and F32 scales the kernels would otherwise
/// rebuild for every group of four x rows (nibble shuffles, F16 conversion): 32 bytes per block in
/// <see cref="BlockLayout.Nibbles"/> order plus a scale (and zero point) per block. The values are exactly
/// those <see cref="Int4Weights{TZ}"/> produces, so results do not change, only the work per x row.
/// </summary>
internal readonly unsafe struct RepackedInt4<TZ> : IIntWeights where TZ : struct, IZeroPoints
{
    [ThreadStatic] private static byte[]? t_buffer;

    private readonly byte* _data;
    private readonly float* _scales;
    private readonly byte* _zeros;
    private readonly long _first;
    private readonly int _k;
    private readonly int _blocks;

    /// <summary>Unpacks rows [o0, o1) of <paramref name="w"/> into this thread's buffer.</summary>
    public RepackedInt4(HostWeight w, int o0, int o1)
    {
        var src = new Int4Weights<TZ>(w, o0, o1);
        int k = w.Cols, blocks = k / ActivationQuantizer.Block, n = o1 - o0;
        long dataBytes = (long)n * k, scaleBytes = (long)n * blocks * 4;
        byte* buf = ActivationQuantizer.Buffer(ref t_buffer, dataBytes + scaleBytes + (long)n * blocks);
        _data = buf;
        _scales = (float*)(buf + dataBytes);
        _zeros = buf + dataBytes + scaleBytes;
        _first = o0;
        _k = k;
        _blocks = blocks;
        for (int o = o0; o < o1; o++)
        {
            byte* p = src.Row(o);
            long m = src.Meta(o);
            byte* dst = Row(o);
            long meta = Meta(o);
            for (int b = 0; b < blocks; b++)
            {
                src.Load(p, b).Store(dst + b * 32);
                int g = src.Group(b);
                _scales[meta + b] = src.Scale(m, g);
                if (default(TZ).Present) _zeros[meta + b] = w.ZeroPoints[m + g];
            }
        }
    }

    public bool BlockScaled => true;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public byte* Row(long row) => _data + (row - _first) * _k;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public long Meta(long row) => (row - _first) * _blocks;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Group(int block) => block;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<byte> Load(byte* row, int block) => Vector256.Load(row + block * 32);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<int> Correction(Vector256<int> stored, long meta, int group)
    {
        if (!default(TZ).Present) return stored;
        return Avx2.MultiplyLow(Avx2.ShiftRightArithmetic(stored, 3), Vector256.Create((int)_zeros[meta + group]));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Scale(long meta, int group) => _scales[meta + group];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float* ScaleRow(long meta) => _scales + meta;
}
