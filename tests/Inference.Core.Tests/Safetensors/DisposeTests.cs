using Inference.Safetensors;

namespace Inference.Tests.Safetensors;

public class DisposeTests
{
    [Fact]
    public void FileIsMappedWhileOpenAndReleasedAfterDispose()
    {
        using var tmp = new TempDir();
        string path = tmp.File("m.safetensors");
        var w = new SafetensorsWriter();
        w.AddF32("x", [4], [1f, 2f, 3f, 4f], DType.F32);
        w.Write(path);

        var file = SafetensorsFile.Open(path);
        Assert.True(ProcessFiles.IsMapped(path));
        Assert.Equal(new FileInfo(path).Length, file.MappedBytes);
        file.Dispose();
        ProcessFiles.AssertReleased(path);
        file.Dispose(); // twice is harmless
        Assert.Throws<ObjectDisposedException>(() => file.GetView("x"));
    }

    [Fact]
    public void ModelDisposeReleasesEveryShard()
    {
        using var tmp = new TempDir();
        var w = new SafetensorsWriter();
        for (int i = 0; i < 3; i++)
            w.AddF32($"t{i}", [2], [i, i], DType.F32);
        w.WriteFolder(tmp.Path, 3);

        var model = SafetensorsModel.Open(tmp.Path);
        Assert.All(model.Files, f => Assert.True(ProcessFiles.IsMapped(f)));
        model.Dispose();
        Assert.All(model.Files, ProcessFiles.AssertReleased);
    }
}
