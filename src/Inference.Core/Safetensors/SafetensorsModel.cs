namespace Inference.Safetensors;

/// <summary>A model folder: model.safetensors, or model.safetensors.index.json with shards.</summary>
public sealed class SafetensorsModel : IDisposable
{
    public const string SingleFileName = "model.safetensors";

    private readonly List<SafetensorsFile> _files;
    private readonly Dictionary<string, SafetensorsFile> _byTensor;

    public string Directory { get; }

    /// <summary>Full paths of the mapped files, in the order they were opened.</summary>
    public IReadOnlyList<string> Files { get; }

    /// <summary>Tensor names in file (or index) order.</summary>
    public IEnumerable<string> TensorNames => _byTensor.Keys;

    public long MappedBytes => _files.Sum(f => f.MappedBytes);

    private SafetensorsModel(string dir, List<SafetensorsFile> files, Dictionary<string, SafetensorsFile> byTensor)
    {
        Directory = dir;
        _files = files;
        _byTensor = byTensor;
        Files = files.Select(f => f.Path).ToArray();
    }

    /// <summary>Maps model.safetensors, or every shard named by the index; on any error nothing stays mapped.</summary>
    public static SafetensorsModel Open(string dir, IProgress<string>? progress = null)
    {
        dir = Path.GetFullPath(dir);
        string single = Path.Combine(dir, SingleFileName);
        string index = Path.Combine(dir, SafetensorsIndex.FileName);

        // Same preference as transformers: a single file wins over an index.
        if (File.Exists(single))
        {
            progress?.Report($"mapping {SingleFileName}");
            SafetensorsFile file = SafetensorsFile.Open(single);
            return new SafetensorsModel(dir, [file], file.Tensors.Keys.ToDictionary(n => n, _ => file, StringComparer.Ordinal));
        }
        if (File.Exists(index))
            return OpenSharded(dir, index, progress);
        if (!System.IO.Directory.Exists(dir))
            throw new ModelFormatException(dir, "model folder does not exist");
        throw new ModelFormatException(dir, $"folder has neither {SingleFileName} nor {SafetensorsIndex.FileName}");
    }

    private static SafetensorsModel OpenSharded(string dir, string indexPath, IProgress<string>? progress)
    {
        SafetensorsIndex index = SafetensorsIndex.Load(indexPath);
        var files = new List<SafetensorsFile>();
        var shards = new Dictionary<string, SafetensorsFile>(StringComparer.Ordinal);
        var byTensor = new Dictionary<string, SafetensorsFile>(StringComparer.Ordinal);
        try
        {
            // Check every shard exists before mapping any, so a missing one fails fast and cheaply.
            foreach ((string tensor, string shard) in index.WeightMap)
                if (!shards.ContainsKey(shard) && !File.Exists(Path.Combine(dir, shard)))
                    throw new ModelFormatException(indexPath, $"shard file '{shard}' is missing", tensor);

            foreach ((string tensor, string shard) in index.WeightMap)
            {
                if (!shards.TryGetValue(shard, out SafetensorsFile? file))
                {
                    progress?.Report($"mapping {shard}");
                    file = SafetensorsFile.Open(Path.Combine(dir, shard));
                    files.Add(file);
                    shards.Add(shard, file);
                }
                if (!file.Contains(tensor))
                    throw new ModelFormatException(file.Path, $"listed in {SafetensorsIndex.FileName} but missing from this shard", tensor);
                byTensor.Add(tensor, file);
            }
            return new SafetensorsModel(dir, files, byTensor);
        }
        catch
        {
            foreach (SafetensorsFile f in files)
                f.Dispose();
            throw;
        }
    }

    public bool Contains(string name) => _byTensor.ContainsKey(name);

    public TensorInfo GetInfo(string name) => FileOf(name).Tensors[name];

    public TensorView GetView(string name) => FileOf(name).GetView(name);

    private SafetensorsFile FileOf(string name) =>
        _byTensor.TryGetValue(name, out SafetensorsFile? file)
            ? file
            : throw new ModelFormatException(Directory, "not found in the model", name);

    public void Dispose()
    {
        foreach (SafetensorsFile f in _files)
            f.Dispose();
    }
}
