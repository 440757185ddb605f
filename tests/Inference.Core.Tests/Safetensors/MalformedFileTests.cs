using Inference.Safetensors;

namespace Inference.Tests.Safetensors;

/// <summary>Every way a single file can be broken must give a ModelFormatException and leave nothing mapped or open.</summary>
public class MalformedFileTests
{
    /// <summary>Opens the file directly and as a model folder; both must fail the same way and release it.</summary>
    private static void AssertRejected(string path, string? tensor, string fragment)
    {
        var e = Assert.Throws<ModelFormatException>(() => SafetensorsFile.Open(path));
        Assert.Equal(Path.GetFullPath(path), e.FilePath);
        Assert.Contains(Path.GetFileName(path), e.Message);
        Assert.Contains(fragment, e.Message);
        if (tensor is not null)
        {
            Assert.Equal(tensor, e.TensorName);
            Assert.Contains($"'{tensor}'", e.Message);
        }
        ProcessFiles.AssertReleased(path);

        var viaModel = Assert.Throws<ModelFormatException>(() => SafetensorsModel.Open(Path.GetDirectoryName(path)!));
        Assert.Equal(e.Message, viaModel.Message);
        ProcessFiles.AssertReleased(path);
    }

    private static void AssertHeaderRejected(string header, int dataBytes, string? tensor, string fragment)
    {
        using var tmp = new TempDir();
        string path = tmp.File("model.safetensors");
        RawSafetensors.Write(path, header, dataBytes);
        AssertRejected(path, tensor, fragment);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(7)]
    public void FileShorterThanEightBytes(int length)
    {
        using var tmp = new TempDir();
        string path = tmp.File("model.safetensors");
        File.WriteAllBytes(path, new byte[length]);
        AssertRejected(path, null, "too short");
    }

    [Fact]
    public void HeaderLengthPastEndOfFile()
    {
        using var tmp = new TempDir();
        string path = tmp.File("model.safetensors");
        RawSafetensors.Write(path, "{}"u8.ToArray(), 0, declaredHeaderLength: 1000);
        AssertRejected(path, null, "past the end of the file");
    }

    [Theory]
    [InlineData(100_000_001UL)]
    [InlineData(ulong.MaxValue)] // would be negative as a long
    public void HeaderLengthOver100MB(ulong declared)
    {
        using var tmp = new TempDir();
        string path = tmp.File("model.safetensors");
        RawSafetensors.Write(path, "{}"u8.ToArray(), 0, declaredHeaderLength: declared);
        AssertRejected(path, null, "100 MB");
    }

    [Fact]
    public void MalformedHeaderJson() => AssertHeaderRejected("""{"a": {"dtype": "F32",""", 0, null, "malformed header JSON");

    [Fact]
    public void InvalidUtf8Header()
    {
        using var tmp = new TempDir();
        string path = tmp.File("model.safetensors");
        RawSafetensors.Write(path, [(byte)'{', (byte)'"', 0xFF, 0xFE, (byte)'"', (byte)':', (byte)'1', (byte)'}'], 0);
        AssertRejected(path, null, "not valid UTF-8");
    }

    [Theory]
    [InlineData("[1, 2]")]
    [InlineData("\"text\"")]
    [InlineData("42")]
    public void HeaderNotAnObject(string header) => AssertHeaderRejected(header, 0, null, "must be a JSON object");

    [Theory]
    [InlineData("""{"w": {"shape": [1], "data_offsets": [0, 4]}}""", "'dtype'")]
    [InlineData("""{"w": {"dtype": "F32", "data_offsets": [0, 4]}}""", "'shape'")]
    [InlineData("""{"w": {"dtype": "F32", "shape": [1]}}""", "'data_offsets'")]
    public void TensorEntryMissingAField(string header, string fragment) => AssertHeaderRejected(header, 4, "w", fragment);

    [Theory]
    [InlineData("""{"w": 5}""", "must be an object")]
    [InlineData("""{"w": {"dtype": 5, "shape": [1], "data_offsets": [0, 4]}}""", "'dtype' must be String")]
    [InlineData("""{"w": {"dtype": "F32", "shape": "1", "data_offsets": [0, 4]}}""", "'shape' must be Array")]
    [InlineData("""{"w": {"dtype": "F32", "shape": [1.5], "data_offsets": [0, 4]}}""", "shape[0] must be an integer")]
    [InlineData("""{"w": {"dtype": "F32", "shape": ["1"], "data_offsets": [0, 4]}}""", "shape[0] must be an integer")]
    [InlineData("""{"w": {"dtype": "F32", "shape": [1], "data_offsets": {"begin": 0}}}""", "'data_offsets' must be Array")]
    [InlineData("""{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0]}}""", "must be [begin, end]")]
    [InlineData("""{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4, 8]}}""", "must be [begin, end]")]
    [InlineData("""{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 1e30]}}""", "data_offsets[1] must be an integer")]
    [InlineData("""{"w": {"dtype": "F32", "shape": [99999999999, 99999999999], "data_offsets": [0, 4]}}""", "too large")]
    public void TensorEntryWithWrongTypes(string header, string fragment) => AssertHeaderRejected(header, 4, "w", fragment);

    [Theory]
    [InlineData("""{"w": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}""", "shape[0] is negative")]
    [InlineData("""{"w": {"dtype": "F32", "shape": [2, -2], "data_offsets": [0, 16]}}""", "shape[1] is negative")]
    [InlineData("""{"w": {"dtype": "F32", "shape": [1], "data_offsets": [-4, 0]}}""", "data_offsets[0] is negative")]
    public void NegativeNumbers(string header, string fragment) => AssertHeaderRejected(header, 16, "w", fragment);

    [Fact]
    public void UnknownDType() =>
        AssertHeaderRejected("""{"w": {"dtype": "F8_E4M3", "shape": [1], "data_offsets": [0, 1]}}""", 1, "w", "unknown dtype 'F8_E4M3'");

    [Fact]
    public void DataOffsetEndPastDataSection() =>
        AssertHeaderRejected("""{"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}""", 8, "w", "past the end of the data section");

    [Fact]
    public void DataOffsetBeginAfterEnd() =>
        AssertHeaderRejected("""{"w": {"dtype": "F32", "shape": [2], "data_offsets": [8, 0]}}""", 8, "w", "after end");

    [Fact]
    public void OverlappingTensors() =>
        AssertHeaderRejected("""
            {"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
             "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}
            """, 12, "b", "overlap tensor 'a'");

    [Fact]
    public void ByteCountDisagreesWithShape() =>
        AssertHeaderRejected("""{"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}""", 12, "w", "needs 12");

    [Fact]
    public void DuplicateTensorName() =>
        AssertHeaderRejected("""
            {"w": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]},
             "w": {"dtype": "U8", "shape": [1], "data_offsets": [1, 2]}}
            """, 2, "w", "listed twice");

    [Theory]
    [InlineData("""{"__metadata__": {"format": 1}}""")]
    [InlineData("""{"__metadata__": ["pt"]}""")]
    public void MetadataNotStringToString(string header) => AssertHeaderRejected(header, 0, null, "'__metadata__'");

    [Fact]
    public void GapsAndSpacePaddingAndEmptyTensorsAreAccepted()
    {
        using var tmp = new TempDir();
        string path = tmp.File("model.safetensors");
        // 4 unused bytes between the tensors, an empty tensor pointing inside one, and a space-padded header.
        RawSafetensors.Write(path, """
            {"a": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]},
             "e": {"dtype": "F32", "shape": [0], "data_offsets": [2, 2]},
             "b": {"dtype": "U8", "shape": [2, 2], "data_offsets": [8, 12]}}
            """ + new string(' ', 13), 16);
        using var file = SafetensorsFile.Open(path);
        Assert.Equal([0, 1, 2, 3], file.GetView("a").Bytes.ToArray());
        Assert.Equal([8, 9, 10, 11], file.GetView("b").Bytes.ToArray());
        Assert.True(file.GetView("e").Bytes.IsEmpty);
    }

    [Fact]
    public void MissingTensorInOpenFileNamesFileAndTensor()
    {
        using var tmp = new TempDir();
        string path = tmp.File("model.safetensors");
        new SafetensorsWriter().Write(path);
        using var file = SafetensorsFile.Open(path);
        var e = Assert.Throws<ModelFormatException>(() => file.GetView("nope"));
        Assert.Contains("model.safetensors", e.Message);
        Assert.Contains("'nope'", e.Message);
    }
}
