using Inference.Safetensors;

namespace Inference.Tests.Safetensors;

public class HalfConversionsTests
{
    private static ushort[] AllBitPatterns() => Enumerable.Range(0, 65536).Select(i => (ushort)i).ToArray();

    [Theory]
    [InlineData(65536)]
    [InlineData(37)] // vector body plus a scalar tail
    [InlineData(5)]  // scalar only
    public void F16ToF32MatchesSystemHalf(int count)
    {
        ushort[] src = AllBitPatterns()[..count];
        var dst = new float[count];
        HalfConversions.F16ToF32(src, dst);
        for (int i = 0; i < count; i++)
        {
            float expected = (float)BitConverter.UInt16BitsToHalf(src[i]);
            if (float.IsNaN(expected))
            {
                Assert.True(float.IsNaN(dst[i]), $"0x{src[i]:X4} should be NaN");
                Assert.Equal(float.IsNegative(expected), float.IsNegative(dst[i]));
            }
            else
            {
                Assert.True(BitConverter.SingleToUInt32Bits(expected) == BitConverter.SingleToUInt32Bits(dst[i]),
                    $"0x{src[i]:X4}: expected {expected}, got {dst[i]}");
            }
        }
    }

    [Theory]
    [InlineData(65536)]
    [InlineData(37)]
    public void BF16ToF32IsTheHighHalfOfAFloat(int count)
    {
        ushort[] src = AllBitPatterns()[..count];
        var dst = new float[count];
        HalfConversions.BF16ToF32(src, dst);
        for (int i = 0; i < count; i++)
        {
            Assert.Equal((uint)src[i] << 16, BitConverter.SingleToUInt32Bits(dst[i]));
            Assert.Equal((uint)src[i] << 16, BitConverter.SingleToUInt32Bits(HalfConversions.BF16ToFloat(src[i])));
        }
    }

    [Fact]
    public void ConversionRejectsShortDestination() =>
        Assert.Throws<ArgumentException>(() => HalfConversions.BF16ToF32(new ushort[4], new float[3]));

    [Fact]
    public void FloatToBF16MatchesReferenceRounding()
    {
        var rng = new Random(1234);
        var bits = new List<uint>
        {
            0x3F808000, // tie, even below: stays
            0x3F818000, // tie, odd below: rounds up
            0x3F808001, // just above the tie
            0x3F807FFF, // just below the tie
            0x7F7FFFFF, // float max: rounds to infinity, as IEEE overflow does
            0x7F7F7FFF, // stays at bf16 max
            0x00000001, 0x80000001, 0x007FFFFF, // subnormals
            0x00000000, 0x80000000, 0x7F800000, 0xFF800000,
        };
        for (int i = 0; i < 200_000; i++)
            bits.Add((uint)rng.NextInt64(0, 1L << 32));

        foreach (uint b in bits)
        {
            float f = BitConverter.UInt32BitsToSingle(b);
            if (float.IsNaN(f))
                continue;
            Assert.True(ReferenceBF16(f) == HalfConversions.FloatToBF16(f), $"0x{b:X8}");
        }
    }

    [Theory]
    [InlineData(0x7FC00000u)]
    [InlineData(0x7F800001u)] // payload only in the bits that get dropped
    [InlineData(0xFFFFFFFFu)]
    public void FloatToBF16KeepsNaN(uint bits)
    {
        ushort b = HalfConversions.FloatToBF16(BitConverter.UInt32BitsToSingle(bits));
        Assert.True(float.IsNaN(HalfConversions.BF16ToFloat(b)));
        Assert.Equal(bits >> 31, (uint)b >> 15);
    }

    /// <summary>Picks the nearer of the two neighbouring bf16 values by exact double arithmetic, ties to even.</summary>
    internal static ushort ReferenceBF16(float f)
    {
        uint bits = BitConverter.SingleToUInt32Bits(f);
        ushort lower = (ushort)(bits >> 16);
        if (float.IsInfinity(f) || (bits & 0xFFFF) == 0)
            return lower;
        ushort upper = (ushort)(lower + 1);
        double lo = BF16Value(lower), up = BF16Value(upper), x = f;
        double dLo = Math.Abs(x - lo), dUp = Math.Abs(x - up);
        if (dLo < dUp) return lower;
        if (dUp < dLo) return upper;
        return (lower & 1) == 0 ? lower : upper;
    }

    // An all-ones exponent stands for 2^128 here: that is where IEEE rounding overflows to infinity.
    private static double BF16Value(ushort b) =>
        (b & 0x7F80) == 0x7F80 ? ((b & 0x8000) != 0 ? -Math.Pow(2, 128) : Math.Pow(2, 128)) : HalfConversions.BF16ToFloat(b);
}
