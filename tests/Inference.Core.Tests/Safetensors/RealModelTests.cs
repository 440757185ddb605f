using Inference.Safetensors;

namespace Inference.Tests.Safetensors;

public class RealModelTests
{
    [Fact]
    public void SingleAndShardedStories260KHoldIdenticalTensors()
    {
        var progress = new List<string>();
        using SafetensorsModel single = SafetensorsModel.Open(RepoPaths.Stories260K);
        using SafetensorsModel sharded = SafetensorsModel.Open(RepoPaths.Stories260KSharded, new SyncProgress(progress.Add));

        Assert.Single(single.Files);
        Assert.Equal(2, sharded.Files.Count);
        Assert.Equal(2, progress.Count);
        Assert.Equal(single.TensorNames.Order(StringComparer.Ordinal), sharded.TensorNames.Order(StringComparer.Ordinal));
        Assert.Equal(new FileInfo(Path.Combine(RepoPaths.Stories260K, "model.safetensors")).Length, single.MappedBytes);

        TensorInfo embed = single.GetInfo("model.embed_tokens.weight");
        Assert.Equal(DType.F32, embed.DType);
        Assert.Equal([512L, 64L], embed.Shape);

        foreach (string name in single.TensorNames)
        {
            TensorView a = single.GetView(name), b = sharded.GetView(name);
            Assert.Equal(a.Info.DType, b.Info.DType);
            Assert.Equal(a.Info.Shape, b.Info.Shape);
            Assert.True(a.Bytes.SequenceEqual(b.Bytes), name);
        }

        ReadOnlySpan<float> weights = single.GetView("model.embed_tokens.weight").AsSpan<float>();
        Assert.Equal(512 * 64, weights.Length);
        Assert.All(weights.ToArray(), w => Assert.True(float.IsFinite(w)));
    }

    [Fact]
    public void MissingTensorNamesTheFolderAndTensor()
    {
        using SafetensorsModel model = SafetensorsModel.Open(RepoPaths.Stories260KSharded);
        Assert.False(model.Contains("lm_head.nope"));
        var e = Assert.Throws<ModelFormatException>(() => model.GetView("lm_head.nope"));
        Assert.Contains(RepoPaths.Stories260KSharded, e.Message);
        Assert.Contains("lm_head.nope", e.Message);
        Assert.Throws<ModelFormatException>(() => model.GetInfo("lm_head.nope"));
    }

    /// <summary>Progress&lt;T&gt; posts to the thread pool; tests need the reports in hand when Open returns.</summary>
    private sealed class SyncProgress(Action<string> report) : IProgress<string>
    {
        public void Report(string value) => report(value);
    }
}
