using Inference.Safetensors;

namespace Inference.Tests.Safetensors;

/// <summary>Broken sharded folders must fail with the culprit named and every shard opened so far released.</summary>
public class MalformedFolderTests
{
    private static SafetensorsWriter ThreeTensors()
    {
        var w = new SafetensorsWriter();
        for (int i = 0; i < 3; i++)
            w.AddF32($"t{i}", [4], [i, i, i, i], DType.F32);
        return w;
    }

    private static string[] AllFiles(TempDir tmp) => Directory.GetFiles(tmp.Path);

    private static ModelFormatException AssertOpenFails(TempDir tmp, string expectedFile, string? tensor, string fragment)
    {
        var e = Assert.Throws<ModelFormatException>(() => SafetensorsModel.Open(tmp.Path));
        Assert.Equal(expectedFile, e.FilePath);
        Assert.Contains(expectedFile, e.Message);
        Assert.Contains(fragment, e.Message);
        if (tensor is not null)
        {
            Assert.Equal(tensor, e.TensorName);
            Assert.Contains($"'{tensor}'", e.Message);
        }
        Assert.All(AllFiles(tmp), ProcessFiles.AssertReleased);
        return e;
    }

    [Theory]
    [InlineData("{ not json")]
    [InlineData("[]")]
    [InlineData("""{"metadata": {}}""")]
    [InlineData("""{"weight_map": {"t0": 3}}""")]
    [InlineData("""{"weight_map": {"t0": "../outside.safetensors"}}""")]
    [InlineData("""{"weight_map": {}}""")]
    public void MalformedIndex(string json)
    {
        using var tmp = new TempDir();
        ThreeTensors().WriteFolder(tmp.Path, 3);
        File.WriteAllText(tmp.File("model.safetensors.index.json"), json);
        AssertOpenFails(tmp, tmp.File("model.safetensors.index.json"), null, "");
    }

    [Fact]
    public void IndexNotUtf8()
    {
        using var tmp = new TempDir();
        ThreeTensors().WriteFolder(tmp.Path, 3);
        File.WriteAllBytes(tmp.File("model.safetensors.index.json"), [(byte)'{', (byte)'"', 0xFF, (byte)'"', (byte)':', (byte)'1', (byte)'}']);
        AssertOpenFails(tmp, tmp.File("model.safetensors.index.json"), null, "UTF-8");
    }

    [Fact]
    public void IndexNamesAMissingShard()
    {
        using var tmp = new TempDir();
        ThreeTensors().WriteFolder(tmp.Path, 3);
        File.Delete(tmp.File("model-00003-of-00003.safetensors"));
        AssertOpenFails(tmp, tmp.File("model.safetensors.index.json"), "t2", "'model-00003-of-00003.safetensors' is missing");
    }

    [Fact]
    public void IndexNamesATensorItsShardLacks()
    {
        using var tmp = new TempDir();
        ThreeTensors().WriteFolder(tmp.Path, 3);
        // Shards 1 and 2 are mapped before the bad entry is reached; both must be released.
        string index = File.ReadAllText(tmp.File("model.safetensors.index.json"));
        File.WriteAllText(tmp.File("model.safetensors.index.json"), index.Replace("\"t2\"", "\"t9\""));
        AssertOpenFails(tmp, tmp.File("model-00003-of-00003.safetensors"), "t9", "missing from this shard");
    }

    [Fact]
    public void CorruptLaterShardReleasesEarlierShards()
    {
        using var tmp = new TempDir();
        ThreeTensors().WriteFolder(tmp.Path, 3);
        File.WriteAllBytes(tmp.File("model-00003-of-00003.safetensors"), [1, 2, 3]);
        AssertOpenFails(tmp, tmp.File("model-00003-of-00003.safetensors"), null, "too short");
    }

    [Fact]
    public void FolderWithoutModelFiles()
    {
        using var tmp = new TempDir();
        File.WriteAllText(tmp.File("config.json"), "{}");
        AssertOpenFails(tmp, tmp.Path, null, "neither model.safetensors nor model.safetensors.index.json");
    }

    [Fact]
    public void FolderThatDoesNotExist()
    {
        using var tmp = new TempDir();
        string missing = tmp.File("nowhere");
        var e = Assert.Throws<ModelFormatException>(() => SafetensorsModel.Open(missing));
        Assert.Equal(missing, e.FilePath);
        Assert.Contains("does not exist", e.Message);
    }
}
