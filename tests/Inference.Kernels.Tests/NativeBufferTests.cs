using Inference.Kernels;

namespace Inference.Tests;

/// <summary>Native buffers, small (heap) and large (mapped and populated on Linux): zeroed, aligned, writable.</summary>
public sealed unsafe class NativeBufferTests
{
    [Theory]
    [InlineData(0L)]
    [InlineData(1000L)]
    [InlineData((64L << 20) + 4097)]
    public void ZeroedAlignedAndWritable(long bytes)
    {
        using var b = new NativeBuffer(bytes);
        Assert.Equal(0, (long)b.Pointer % 64);
        Assert.Equal(bytes, b.Length);
        for (long i = 0; i < bytes; i += 4093) Assert.Equal(0, b.Pointer[i]);
        if (bytes == 0) return;
        b.Pointer[bytes - 1] = 7;
        b.Pointer[0] = 9;
        Assert.Equal(7, b.Pointer[bytes - 1]);
        Assert.Equal(9, b.Pointer[0]);
    }

    [Fact]
    public void DisposeTwiceIsHarmless()
    {
        var b = new NativeBuffer(64L << 20, zeroed: false);
        b.Pointer[(64L << 20) - 1] = 1;
        b.Dispose();
        b.Dispose();
        Assert.True(b.Pointer == null);
    }
}
