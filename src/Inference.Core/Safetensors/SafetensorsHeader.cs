using System.Text.Json;
using System.Text.Unicode;

namespace Inference.Safetensors;

/// <summary>The parsed and validated JSON header of one safetensors file.</summary>
internal sealed class SafetensorsHeader
{
    /// <summary>Headers are read into memory whole; the reference implementation uses the same cap.</summary>
    public const long MaxHeaderBytes = 100_000_000;

    public required Dictionary<string, TensorInfo> Tensors { get; init; }

    public required Dictionary<string, string> Metadata { get; init; }

    /// <summary>Parses <paramref name="json"/> and checks every tensor against a data section of <paramref name="dataLength"/> bytes starting at file offset <paramref name="dataStart"/>.</summary>
    public static SafetensorsHeader Parse(string filePath, byte[] json, long dataStart, long dataLength)
    {
        // The parser only checks UTF-8 lazily, when a string is read, and then throws InvalidOperationException.
        if (!Utf8.IsValid(json))
            throw new ModelFormatException(filePath, "header is not valid UTF-8");
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw new ModelFormatException(filePath, $"malformed header JSON: {e.Message}", e);
        }

        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new ModelFormatException(filePath, $"header must be a JSON object, found {doc.RootElement.ValueKind}");

            var tensors = new Dictionary<string, TensorInfo>(StringComparer.Ordinal);
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            bool sawMetadata = false;
            foreach (JsonProperty prop in doc.RootElement.EnumerateObject())
            {
                if (prop.Name == "__metadata__")
                {
                    if (sawMetadata)
                        throw new ModelFormatException(filePath, "header has '__metadata__' twice");
                    sawMetadata = true;
                    ReadMetadata(filePath, prop.Value, metadata);
                    continue;
                }
                if (tensors.ContainsKey(prop.Name))
                    throw new ModelFormatException(filePath, "listed twice in the header", prop.Name);
                tensors.Add(prop.Name, ReadTensor(filePath, prop.Name, prop.Value, dataStart, dataLength));
            }
            CheckNoOverlap(filePath, tensors.Values, dataStart);
            return new SafetensorsHeader { Tensors = tensors, Metadata = metadata };
        }
    }

    private static void ReadMetadata(string filePath, JsonElement value, Dictionary<string, string> metadata)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw new ModelFormatException(filePath, $"'__metadata__' must be an object of strings, found {value.ValueKind}");
        foreach (JsonProperty p in value.EnumerateObject())
        {
            if (p.Value.ValueKind != JsonValueKind.String)
                throw new ModelFormatException(filePath, $"'__metadata__' value '{p.Name}' must be a string, found {p.Value.ValueKind}");
            metadata[p.Name] = p.Value.GetString()!;
        }
    }

    private static TensorInfo ReadTensor(string filePath, string name, JsonElement entry, long dataStart, long dataLength)
    {
        if (entry.ValueKind != JsonValueKind.Object)
            throw new ModelFormatException(filePath, $"header entry must be an object, found {entry.ValueKind}", name);

        JsonElement dtypeEl = Required(filePath, name, entry, "dtype", JsonValueKind.String);
        string dtypeName = dtypeEl.GetString()!;
        if (!DTypes.TryParse(dtypeName, out DType dtype))
            throw new ModelFormatException(filePath, $"unknown dtype '{dtypeName}'", name);

        JsonElement shapeEl = Required(filePath, name, entry, "shape", JsonValueKind.Array);
        var shape = new long[shapeEl.GetArrayLength()];
        int i = 0;
        foreach (JsonElement d in shapeEl.EnumerateArray())
        {
            long dim = ReadNonNegative(filePath, name, d, $"shape[{i}]");
            shape[i++] = dim;
        }

        JsonElement offsetsEl = Required(filePath, name, entry, "data_offsets", JsonValueKind.Array);
        if (offsetsEl.GetArrayLength() != 2)
            throw new ModelFormatException(filePath, $"data_offsets must be [begin, end], found {offsetsEl.GetArrayLength()} values", name);
        long begin = ReadNonNegative(filePath, name, offsetsEl[0], "data_offsets[0]");
        long end = ReadNonNegative(filePath, name, offsetsEl[1], "data_offsets[1]");

        long elements, bytes;
        try
        {
            elements = 1;
            foreach (long d in shape)
                elements = checked(elements * d);
            bytes = checked(elements * DTypes.SizeOf(dtype));
        }
        catch (OverflowException)
        {
            throw new ModelFormatException(filePath, $"shape [{string.Join(",", shape)}] is too large", name);
        }

        if (begin > end)
            throw new ModelFormatException(filePath, $"data_offsets begin {begin} is after end {end}", name);
        if (end > dataLength)
            throw new ModelFormatException(filePath, $"data_offsets end {end} is past the end of the data section ({dataLength} bytes)", name);
        if (end - begin != bytes)
            throw new ModelFormatException(filePath,
                $"data_offsets [{begin},{end}] hold {end - begin} bytes but {DTypes.Name(dtype)}[{string.Join(",", shape)}] needs {bytes}", name);

        return new TensorInfo
        {
            Name = name,
            DType = dtype,
            Shape = shape,
            ElementCount = elements,
            ByteLength = bytes,
            FilePath = filePath,
            DataOffset = dataStart + begin,
        };
    }

    private static JsonElement Required(string filePath, string name, JsonElement entry, string key, JsonValueKind kind)
    {
        if (!entry.TryGetProperty(key, out JsonElement value))
            throw new ModelFormatException(filePath, $"header entry has no '{key}'", name);
        if (value.ValueKind != kind)
            throw new ModelFormatException(filePath, $"'{key}' must be {kind}, found {value.ValueKind}", name);
        return value;
    }

    private static long ReadNonNegative(string filePath, string name, JsonElement value, string what)
    {
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out long n))
            throw new ModelFormatException(filePath, $"{what} must be an integer, found {value.GetRawText()}", name);
        if (n < 0)
            throw new ModelFormatException(filePath, $"{what} is negative ({n})", name);
        return n;
    }

    /// <summary>Gaps between tensors are tolerated (some writers align data), shared bytes are not.</summary>
    private static void CheckNoOverlap(string filePath, IEnumerable<TensorInfo> tensors, long dataStart)
    {
        // Empty tensors own no bytes, so they cannot overlap anything wherever they point.
        TensorInfo[] sorted = tensors.Where(t => t.ByteLength > 0).OrderBy(t => t.DataOffset).ToArray();
        for (int i = 1; i < sorted.Length; i++)
        {
            TensorInfo prev = sorted[i - 1], cur = sorted[i];
            if (cur.DataOffset < prev.DataOffset + prev.ByteLength)
                throw new ModelFormatException(filePath,
                    $"data_offsets [{cur.DataOffset - dataStart},{cur.DataOffset - dataStart + cur.ByteLength}] overlap tensor '{prev.Name}' " +
                    $"[{prev.DataOffset - dataStart},{prev.DataOffset - dataStart + prev.ByteLength}]", cur.Name);
        }
    }
}
