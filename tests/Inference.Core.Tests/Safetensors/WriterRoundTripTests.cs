using System.Runtime.InteropServices;
using Inference.Safetensors;

namespace Inference.Tests.Safetensors;

public class WriterRoundTripTests
{
    [Theory]
    [InlineData(DType.F32)]
    [InlineData(DType.F16)]
    [InlineData(DType.BF16)]
    [InlineData(DType.I8)]
    [InlineData(DType.U8)]
    [InlineData(DType.I32)]
    [InlineData(DType.I64)]
    [InlineData(DType.F64)]
    public void RawBytesRoundTripForEveryDType(DType dtype)
    {
        using var tmp = new TempDir();
        string path = tmp.File("t.safetensors");
        var data = new byte[3 * 5 * DTypes.SizeOf(dtype)];
        new Random((int)dtype).NextBytes(data);
        var w = new SafetensorsWriter();
        w.Add("a", dtype, [3, 5], data);
        w.Add("scalar", dtype, [], data.AsSpan(0, DTypes.SizeOf(dtype)));
        w.Add("empty", dtype, [0, 7], []);
        w.Write(path, new Dictionary<string, string> { ["format"] = "pt", ["note"] = "ünïcode" });

        using var file = SafetensorsFile.Open(path);
        Assert.Equal(["a", "scalar", "empty"], file.Tensors.Keys);
        Assert.Equal("ünïcode", file.Metadata["note"]);

        TensorView a = file.GetView("a");
        Assert.Equal(dtype, a.Info.DType);
        Assert.Equal([3L, 5L], a.Info.Shape);
        Assert.Equal(15, a.Info.ElementCount);
        Assert.Equal(data.Length, a.ByteLength);
        Assert.Equal(3, a.Dim(0));
        Assert.Equal(5, a.Dim(1));
        Assert.Equal(data, a.Bytes.ToArray());
        Assert.Equal(0, a.Info.DataOffset % 8); // the writer pads the header so data is aligned

        TensorView scalar = file.GetView("scalar");
        Assert.Empty(scalar.Info.Shape);
        Assert.Equal(1, scalar.Info.ElementCount);
        Assert.Equal(data.AsSpan(0, DTypes.SizeOf(dtype)).ToArray(), scalar.Bytes.ToArray());

        TensorView empty = file.GetView("empty");
        Assert.Equal(0, empty.Info.ElementCount);
        Assert.True(empty.Bytes.IsEmpty);
    }

    [Fact]
    public void TypedSpansReadBackTheValues()
    {
        using var tmp = new TempDir();
        string path = tmp.File("t.safetensors");
        float[] f = [1.5f, -2f, 3.25f];
        long[] l = [long.MinValue, 0, long.MaxValue];
        double[] d = [Math.PI, -0.0, double.Epsilon];
        var w = new SafetensorsWriter();
        w.AddF32("f", [3], f, DType.F32);
        w.Add("l", DType.I64, [3], MemoryMarshal.AsBytes(l.AsSpan()));
        w.Add("d", DType.F64, [3], MemoryMarshal.AsBytes(d.AsSpan()));
        w.Write(path);

        using var file = SafetensorsFile.Open(path);
        Assert.Equal(f, file.GetView("f").AsSpan<float>().ToArray());
        Assert.Equal(l, file.GetView("l").AsSpan<long>().ToArray());
        Assert.Equal(d, file.GetView("d").AsSpan<double>().ToArray());
        Assert.Throws<InvalidOperationException>(() => file.GetView("d").AsSpan<float>());
    }

    [Fact]
    public void AddF32StoresHalfAndBFloatWithCorrectRounding()
    {
        using var tmp = new TempDir();
        string path = tmp.File("t.safetensors");
        var rng = new Random(7);
        float[] values = Enumerable.Range(0, 1000).Select(_ => (float)((rng.NextDouble() - 0.5) * Math.Pow(2, rng.Next(-30, 30))))
            .Concat([0f, -0f, 65504f, 70000f, 1e-8f, float.PositiveInfinity, float.NaN]).ToArray();
        var w = new SafetensorsWriter();
        w.AddF32("h", [values.Length], values, DType.F16);
        w.AddF32("b", [values.Length], values, DType.BF16);
        w.Write(path);

        using var file = SafetensorsFile.Open(path);
        ReadOnlySpan<ushort> h = file.GetView("h").AsSpan<ushort>();
        ReadOnlySpan<ushort> b = file.GetView("b").AsSpan<ushort>();
        Assert.Equal(DType.F16, file.Tensors["h"].DType);
        Assert.Equal(DType.BF16, file.Tensors["b"].DType);
        for (int i = 0; i < values.Length; i++)
        {
            Assert.Equal(BitConverter.HalfToUInt16Bits((Half)values[i]), h[i]);
            if (float.IsNaN(values[i]))
                Assert.True(float.IsNaN(HalfConversions.BF16ToFloat(b[i])));
            else
                Assert.Equal(HalfConversionsTests.ReferenceBF16(values[i]), b[i]);
        }

        var back = new float[values.Length];
        HalfConversions.F16ToF32(h, back);
        Assert.Equal((float)(Half)1e-8f, back[^3]);
        HalfConversions.BF16ToF32(b, back);
        Assert.Equal(65504f, back[^5], 0.01 * 65504f);
    }

    [Fact]
    public void AddF32RejectsNonFloatStorage() =>
        Assert.Throws<ArgumentException>(() => new SafetensorsWriter().AddF32("x", [1], [1f], DType.I32));

    [Fact]
    public void AddRejectsWrongLengthAndDuplicates()
    {
        var w = new SafetensorsWriter();
        Assert.Throws<ArgumentException>(() => w.Add("x", DType.F32, [2], new byte[7]));
        w.Add("x", DType.U8, [1], new byte[1]);
        Assert.Throws<ArgumentException>(() => w.Add("x", DType.U8, [1], new byte[1]));
    }

    [Fact]
    public void EmptyWriterWritesAValidFile()
    {
        using var tmp = new TempDir();
        string path = tmp.File("t.safetensors");
        new SafetensorsWriter().Write(path);
        using var file = SafetensorsFile.Open(path);
        Assert.Empty(file.Tensors);
        Assert.Empty(file.Metadata);
    }
}
