using Inference.Kernels.Cpu;

namespace Inference.Tests.Cpu;

public sealed unsafe class HalfWidenTests
{
    /// <summary>Every half bit pattern (and a tail off the vector width) widens to exactly System.Half's float.</summary>
    [Fact]
    public void WidensEveryHalfExactly()
    {
        const int n = 65536 + 7;
        var src = new Half[n];
        for (int i = 0; i < n; i++) src[i] = BitConverter.UInt16BitsToHalf((ushort)i);
        var dst = new float[n];
        fixed (Half* s = src) fixed (float* d = dst) HalfWiden.Run(s, d, n);
        for (int i = 0; i < n; i++)
        {
            float e = (float)src[i];
            Assert.True(float.IsNaN(e) ? float.IsNaN(dst[i]) : BitConverter.SingleToInt32Bits(e) == BitConverter.SingleToInt32Bits(dst[i]), $"half 0x{i & 0xFFFF:X4}");
        }
    }
}
