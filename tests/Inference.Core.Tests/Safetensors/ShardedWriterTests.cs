using System.Text.Json;
using Inference.Safetensors;

namespace Inference.Tests.Safetensors;

public class ShardedWriterTests
{
    private static readonly int[] Sizes = [400, 16, 16, 256, 64, 300, 8, 128, 0, 200];

    private static SafetensorsWriter MakeWriter(out Dictionary<string, byte[]> expected)
    {
        var w = new SafetensorsWriter();
        expected = [];
        var rng = new Random(42);
        for (int i = 0; i < Sizes.Length; i++)
        {
            var bytes = new byte[Sizes[i] * 4];
            rng.NextBytes(bytes);
            string name = $"layer.{i}.weight";
            w.Add(name, DType.F32, [Sizes[i]], bytes);
            expected[name] = bytes;
        }
        return w;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void ShardedRoundTrip(int shards)
    {
        using var tmp = new TempDir();
        SafetensorsWriter w = MakeWriter(out Dictionary<string, byte[]> expected);
        w.WriteFolder(tmp.Path, shards);

        string[] names = expected.Keys.ToArray();
        if (shards == 1)
        {
            Assert.True(File.Exists(tmp.File("model.safetensors")));
            Assert.False(File.Exists(tmp.File("model.safetensors.index.json")));
        }
        else
        {
            Assert.False(File.Exists(tmp.File("model.safetensors")));
            string[] shardFiles = Enumerable.Range(1, shards).Select(i => $"model-{i:D5}-of-{shards:D5}.safetensors").ToArray();
            using JsonDocument index = JsonDocument.Parse(File.ReadAllBytes(tmp.File("model.safetensors.index.json")));
            Assert.Equal(expected.Values.Sum(b => (long)b.Length), index.RootElement.GetProperty("metadata").GetProperty("total_size").GetInt64());
            var weightMap = index.RootElement.GetProperty("weight_map").EnumerateObject().Select(p => (p.Name, File: p.Value.GetString()!)).ToArray();
            Assert.Equal(names, weightMap.Select(p => p.Name));
            // Order preserved: shard numbers never go down along the tensor list, and every shard is used.
            Assert.Equal(shardFiles, weightMap.Select(p => p.File).Distinct());
            Assert.Equal(weightMap.Select(p => p.File).Order(StringComparer.Ordinal), weightMap.Select(p => p.File));

            // Balanced: no shard is more than the average plus the largest tensor.
            long total = expected.Values.Sum(b => (long)b.Length), largest = expected.Values.Max(b => (long)b.Length);
            foreach (string f in shardFiles)
            {
                long bytes = weightMap.Where(p => p.File == f).Sum(p => (long)expected[p.Name].Length);
                Assert.True(bytes <= total / shards + largest, $"{f} holds {bytes} of {total} bytes");
            }
        }

        using SafetensorsModel model = SafetensorsModel.Open(tmp.Path);
        Assert.Equal(shards, model.Files.Count);
        Assert.Equal(names, model.TensorNames);
        Assert.Equal(model.Files.Sum(f => new FileInfo(f).Length), model.MappedBytes);
        foreach ((string name, byte[] bytes) in expected)
        {
            Assert.True(model.Contains(name));
            Assert.Equal(bytes, model.GetView(name).Bytes.ToArray());
            Assert.Equal([(long)bytes.Length / 4], model.GetInfo(name).Shape);
        }
    }

    [Fact]
    public void MoreShardsThanTensorsIsRejected()
    {
        using var tmp = new TempDir();
        var w = new SafetensorsWriter();
        w.Add("only", DType.U8, [1], new byte[1]);
        Assert.Throws<ArgumentException>(() => w.WriteFolder(tmp.Path, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => w.WriteFolder(tmp.Path, 0));
    }
}
