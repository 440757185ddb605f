using Inference.Safetensors;

namespace Inference.Tests.Safetensors;

public class DTypesTests
{
    [Theory]
    [InlineData(DType.F32, "F32", 4)]
    [InlineData(DType.F16, "F16", 2)]
    [InlineData(DType.BF16, "BF16", 2)]
    [InlineData(DType.I8, "I8", 1)]
    [InlineData(DType.U8, "U8", 1)]
    [InlineData(DType.I32, "I32", 4)]
    [InlineData(DType.I64, "I64", 8)]
    [InlineData(DType.F64, "F64", 8)]
    public void NameSizeAndParseAgree(DType t, string name, int size)
    {
        Assert.Equal(name, DTypes.Name(t));
        Assert.Equal(size, DTypes.SizeOf(t));
        Assert.True(DTypes.TryParse(name, out DType parsed));
        Assert.Equal(t, parsed);
    }

    [Theory]
    [InlineData("f32")]
    [InlineData("0")]
    [InlineData("F8_E4M3")]
    [InlineData("")]
    public void RejectsNonSafetensorsSpellings(string s) => Assert.False(DTypes.TryParse(s, out _));
}
