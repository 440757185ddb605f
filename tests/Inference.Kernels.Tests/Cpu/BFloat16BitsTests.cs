using Inference.Kernels.Cpu;

namespace Inference.Tests.Cpu;

/// <summary>F32 to BF16 rounding (the KV cache's store) against an independent round-to-nearest-even written with doubles.</summary>
public sealed unsafe class BFloat16BitsTests
{
    /// <summary>
    /// The two BF16 neighbours of x (truncation toward zero and one step further out), the nearer by exact
    /// double arithmetic, ties to the even mantissa; past the largest finite BF16 the far neighbour is infinity.
    /// </summary>
    private static ushort Reference(float x)
    {
        if (float.IsNaN(x)) return 0x7FC0; // any quiet NaN is fine; checked by IsNaN below
        uint u = BitConverter.SingleToUInt32Bits(x);
        ushort down = (ushort)(u >> 16);
        if ((u & 0xFFFF) == 0) return down;
        ushort up = (ushort)(down + 1);
        double dx = Math.Abs((double)x), dDown = Math.Abs((double)BFloat16Bits.ToSingle(down));
        // Stepping out of the largest finite value reaches infinity, which rounding treats as 2^128.
        double dUp = (up & 0x7FFF) == 0x7F80 ? Math.Pow(2, 128) : Math.Abs((double)BFloat16Bits.ToSingle(up));
        double below = dx - dDown, above = dUp - dx;
        if (below < above) return down;
        if (above < below) return up;
        return (down & 1) == 0 ? down : up;
    }

    private static IEnumerable<float> Cases()
    {
        var rng = new Random(5);
        for (int i = 0; i < 20000; i++) yield return BitConverter.UInt32BitsToSingle((uint)rng.NextInt64(0, 1L << 32));
        foreach (uint bits in new uint[]
                 {
                     0x00000000, 0x80000000, 0x3F800000, 0x3F808000, 0x3F818000, 0x3F80FFFF, 0x3F807FFF, // ties and near-ties
                     0x7F7FFFFF, 0xFF7FFFFF, 0x7F7F8000, 0x7F7F7FFF, 0x7F800000, 0xFF800000, // largest finite, overflow, infinities
                     0x00000001, 0x00008000, 0x00018000, 0x807FFFFF, // subnormals
                     0x7FC00000, 0x7F800001, 0xFFFFFFFF, // NaNs, incl. a signalling one that must stay NaN
                 })
            yield return BitConverter.UInt32BitsToSingle(bits);
    }

    [Fact]
    public void NarrowRoundsToNearestEvenAsTheReferenceDoes()
    {
        var xs = Cases().ToArray();
        var got = new ushort[xs.Length];
        fixed (float* px = xs) fixed (ushort* pg = got) BFloat16Bits.Narrow(px, pg, xs.Length);
        for (int i = 0; i < xs.Length; i++)
        {
            float x = xs[i];
            if (float.IsNaN(x))
            {
                Assert.True(float.IsNaN(BFloat16Bits.ToSingle(got[i])), $"NaN {BitConverter.SingleToUInt32Bits(x):X8} became {got[i]:X4}");
                continue;
            }
            Assert.True(Reference(x) == got[i], $"{BitConverter.SingleToUInt32Bits(x):X8} ({x:R}): got {got[i]:X4}, expected {Reference(x):X4}");
            Assert.Equal(got[i], BFloat16Bits.FromSingle(x)); // the scalar tail agrees with the vector body
        }
    }

    [Fact]
    public void WidenIsExact()
    {
        var bits = new ushort[1 << 16];
        for (int i = 0; i < bits.Length; i++) bits[i] = (ushort)i;
        var wide = new float[bits.Length];
        fixed (ushort* pb = bits) fixed (float* pw = wide) BFloat16Bits.Widen(pb, pw, bits.Length);
        for (int i = 0; i < bits.Length; i++)
            Assert.Equal((uint)i << 16, BitConverter.SingleToUInt32Bits(wide[i]));
    }
}
