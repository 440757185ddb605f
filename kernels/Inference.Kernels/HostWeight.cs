namespace Inference.Kernels;

/// <summary>
/// A read-only weight matrix [Rows, Cols] in host memory (row = output feature), usually a view into a
/// memory-mapped safetensors file; vectors (norms, biases) are a single row.
/// </summary>
public sealed unsafe class HostWeight : IDisposable
{
    private IDisposable? _owner;
    private readonly Lock _packLock = new();
    private Cpu.InterleavedWeight? _interleaved;
    private Cpu.F32Panels? _panels;
    private int _packUsers;

    public string Name { get; }
    public WeightFormat Format { get; }
    public int Rows { get; }
    public int Cols { get; }
    /// <summary>Row-major data; for Int4 each row holds Cols/2 bytes.</summary>
    public void* Data { get; }
    /// <summary>Int8: [Rows] floats. Int4: [Rows, Cols/GroupSize] halves.</summary>
    public void* Scales { get; }
    /// <summary>Int4 with zero points: [Rows, Cols/GroupSize] bytes (0..15); null for symmetric.</summary>
    public byte* ZeroPoints { get; }
    public int GroupSize { get; }

    public HostWeight(string name, WeightFormat format, int rows, int cols, void* data,
        void* scales = null, byte* zeroPoints = null, int groupSize = 0, IDisposable? owner = null)
    {
        if (rows < 0 || cols < 0) throw new ArgumentOutOfRangeException(nameof(rows), $"{name}: negative shape [{rows}, {cols}]");
        Name = name;
        Format = format;
        Rows = rows;
        Cols = cols;
        Data = data;
        Scales = scales;
        ZeroPoints = zeroPoints;
        GroupSize = groupSize;
        _owner = owner;
    }

    /// <summary>Copies F32 values into native memory this weight owns (for tests and generated weights).</summary>
    public static HostWeight FromFloats(string name, int rows, int cols, ReadOnlySpan<float> values)
    {
        if (values.Length != (long)rows * cols) throw new ArgumentException($"{name}: {values.Length} values for shape [{rows}, {cols}]");
        var buf = new NativeBuffer(values.Length * sizeof(float));
        values.CopyTo(new Span<float>(buf.Pointer, values.Length));
        return new HostWeight(name, WeightFormat.F32, rows, cols, buf.Pointer, owner: buf);
    }

    public long ElementCount => (long)Rows * Cols;

    /// <summary>Bytes of one row of Data.</summary>
    public long RowBytes => Format switch
    {
        WeightFormat.F32 => Cols * 4L,
        WeightFormat.F16 or WeightFormat.BF16 => Cols * 2L,
        WeightFormat.Int8 => Cols,
        WeightFormat.Int4 => Cols / 2,
        _ => throw new NotSupportedException(Format.ToString()),
    };

    /// <summary>Bytes read when the whole matrix is streamed once (data plus scales and zero points).</summary>
    public long TotalBytes => Format switch
    {
        WeightFormat.Int8 => RowBytes * Rows + Rows * 4L,
        WeightFormat.Int4 => RowBytes * Rows + (long)Rows * (Cols / Math.Max(GroupSize, 1)) * (ZeroPoints != null ? 3 : 2),
        _ => RowBytes * Rows,
    };

    /// <summary>
    /// The CPU integer path's interleaved copy of an int8 / int4 weight (<see cref="Cpu.InterleavedWeight"/>), made
    /// once: at load by the CPU backend, or here on first use, so a weight's values never depend on which happened.
    /// </summary>
    internal Cpu.InterleavedWeight Interleaved => Packed(ref _interleaved, Cpu.InterleavedWeight.From);

    /// <summary>The CPU's panel copy of an F32 weight (<see cref="Cpu.F32Panels"/>), made once like <see cref="Interleaved"/>.</summary>
    internal Cpu.F32Panels Panels => Packed(ref _panels, Cpu.F32Panels.From);

    private T Packed<T>(ref T? field, Func<HostWeight, T> make) where T : class
    {
        var p = Volatile.Read(ref field);
        if (p != null) return p;
        lock (_packLock) return field ??= make(this);
    }

    /// <summary>Writes row <paramref name="row"/> as F32 (the dequantized values for quantized formats).</summary>
    public void ReadRow(int row, Span<float> dst) => WeightRows.Dequantize(this, row, dst);

    /// <summary>Whether a packed copy exists now (for tests of its lifetime).</summary>
    internal bool HasPackedCopy => Volatile.Read(ref _interleaved) != null || Volatile.Read(ref _panels) != null;

    /// <summary>Counts a loaded weight that uses the packed copies (<see cref="ReleasePacked"/> undoes it).</summary>
    internal void AcquirePacked()
    {
        lock (_packLock) _packUsers++;
    }

    /// <summary>
    /// Undoes one <see cref="AcquirePacked"/>; the last one frees the packed copies (a later matmul would make them
    /// again), so a model disposed while another model on the same weights lives on costs that one a re-pack,
    /// never a freed buffer. Call only when no kernel of the releasing model is running.
    /// </summary>
    internal void ReleasePacked()
    {
        lock (_packLock)
        {
            if (--_packUsers > 0) return;
            _packUsers = 0;
            FreePacked();
        }
    }

    private void FreePacked()
    {
        _interleaved?.Dispose();
        _interleaved = null;
        _panels?.Dispose();
        _panels = null;
    }

    public void Dispose()
    {
        lock (_packLock) FreePacked();
        _owner?.Dispose();
        _owner = null;
    }
}
