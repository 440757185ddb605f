using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace Inference.Safetensors;

/// <summary>Builds safetensors files in memory, for tests, conversions and fixtures.</summary>
public sealed class SafetensorsWriter
{
    private readonly List<Entry> _entries = [];
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);

    private sealed record Entry(string Name, DType DType, long[] Shape, byte[] Data);

    public int Count => _entries.Count;

    /// <summary>Adds a tensor from raw little-endian bytes; the bytes are copied.</summary>
    public void Add(string name, DType dtype, long[] shape, ReadOnlySpan<byte> data)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name == "__metadata__")
            throw new ArgumentException("'__metadata__' is reserved by the format", nameof(name));
        if (_names.Contains(name))
            throw new ArgumentException($"tensor '{name}' was already added", nameof(name));
        long elements = 1;
        foreach (long d in shape)
        {
            if (d < 0)
                throw new ArgumentException($"tensor '{name}': negative dimension {d}", nameof(shape));
            elements = checked(elements * d);
        }
        long bytes = checked(elements * DTypes.SizeOf(dtype));
        if (data.Length != bytes)
            throw new ArgumentException($"tensor '{name}': {DTypes.Name(dtype)}[{string.Join(",", shape)}] needs {bytes} bytes, got {data.Length}", nameof(data));
        _names.Add(name);
        _entries.Add(new Entry(name, dtype, (long[])shape.Clone(), data.ToArray()));
    }

    /// <summary>Adds float data stored as F32, F16 or BF16 (both 16-bit forms round to nearest even).</summary>
    public void AddF32(string name, long[] shape, ReadOnlySpan<float> data, DType storeAs = DType.F32)
    {
        switch (storeAs)
        {
            case DType.F32:
                Add(name, storeAs, shape, MemoryMarshal.AsBytes(data));
                break;
            case DType.F16:
            case DType.BF16:
                var halves = new ushort[data.Length];
                for (int i = 0; i < data.Length; i++)
                    halves[i] = storeAs == DType.F16 ? BitConverter.HalfToUInt16Bits((Half)data[i]) : HalfConversions.FloatToBF16(data[i]);
                Add(name, storeAs, shape, MemoryMarshal.AsBytes(halves.AsSpan()));
                break;
            default:
                throw new ArgumentException($"tensor '{name}': floats can be stored as F32, F16 or BF16, not {DTypes.Name(storeAs)}", nameof(storeAs));
        }
    }

    public void Write(string path, IReadOnlyDictionary<string, string>? metadata = null) =>
        WriteFile(path, _entries, metadata);

    /// <summary>
    /// Writes model.safetensors when <paramref name="shards"/> is 1, otherwise model-0000i-of-0000N.safetensors
    /// plus model.safetensors.index.json, splitting the tensors in order into shards of similar byte size.
    /// </summary>
    public void WriteFolder(string dir, int shards)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(shards, 1);
        if (shards > Math.Max(1, _entries.Count))
            throw new ArgumentException($"cannot split {_entries.Count} tensors into {shards} shards", nameof(shards));
        Directory.CreateDirectory(dir);
        var metadata = new Dictionary<string, string> { ["format"] = "pt" };
        if (shards == 1)
        {
            WriteFile(Path.Combine(dir, SafetensorsModel.SingleFileName), _entries, metadata);
            return;
        }

        int[] cuts = BalancedCuts(shards);
        var weightMap = new List<(string Tensor, string File)>();
        for (int s = 0; s < shards; s++)
        {
            string file = $"model-{s + 1:D5}-of-{shards:D5}.safetensors";
            List<Entry> part = _entries.GetRange(cuts[s], cuts[s + 1] - cuts[s]);
            WriteFile(Path.Combine(dir, file), part, metadata);
            weightMap.AddRange(part.Select(e => (e.Name, file)));
        }
        WriteIndex(Path.Combine(dir, SafetensorsIndex.FileName), weightMap, _entries.Sum(e => (long)e.Data.Length));
    }

    /// <summary>Shard s holds entries [cuts[s], cuts[s+1]); each cut lands nearest its share of the bytes.</summary>
    private int[] BalancedCuts(int shards)
    {
        var prefix = new long[_entries.Count + 1];
        for (int i = 0; i < _entries.Count; i++)
            prefix[i + 1] = prefix[i] + _entries[i].Data.Length;
        long total = prefix[^1];

        var cuts = new int[shards + 1];
        cuts[shards] = _entries.Count;
        for (int s = 1; s < shards; s++)
        {
            double target = (double)total * s / shards;
            // Every shard keeps at least one tensor.
            int lo = cuts[s - 1] + 1, hi = _entries.Count - (shards - s);
            int best = lo;
            for (int c = lo; c <= hi; c++)
                if (Math.Abs(prefix[c] - target) < Math.Abs(prefix[best] - target))
                    best = c;
            cuts[s] = best;
        }
        return cuts;
    }

    private static void WriteFile(string path, IReadOnlyList<Entry> entries, IReadOnlyDictionary<string, string>? metadata)
    {
        byte[] header = BuildHeader(entries, metadata);
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None);
        Span<byte> prefix = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)header.Length);
        stream.Write(prefix);
        stream.Write(header);
        foreach (Entry e in entries)
            stream.Write(e.Data);
    }

    private static byte[] BuildHeader(IReadOnlyList<Entry> entries, IReadOnlyDictionary<string, string>? metadata)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject("__metadata__");
                foreach ((string k, string v) in metadata)
                    json.WriteString(k, v);
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (Entry e in entries)
            {
                json.WriteStartObject(e.Name);
                json.WriteString("dtype", DTypes.Name(e.DType));
                json.WriteStartArray("shape");
                foreach (long d in e.Shape)
                    json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + e.Data.Length);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += e.Data.Length;
            }
            json.WriteEndObject();
        }
        // Pad with spaces so the data section starts 8-byte aligned, as the reference writer does.
        while (buffer.Length % 8 != 0)
            buffer.WriteByte((byte)' ');
        return buffer.ToArray();
    }

    private static void WriteIndex(string path, List<(string Tensor, string File)> weightMap, long totalBytes)
    {
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None);
        using var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        json.WriteStartObject();
        json.WriteStartObject("metadata");
        json.WriteNumber("total_size", totalBytes);
        json.WriteEndObject();
        json.WriteStartObject("weight_map");
        foreach ((string tensor, string file) in weightMap)
            json.WriteString(tensor, file);
        json.WriteEndObject();
        json.WriteEndObject();
    }
}
