using ILGPU;
using ILGPU.Runtime;

namespace Inference.Kernels.Ilgpu;

/// <summary>The step's metadata on the device, uploaded once per step; buffers grow and are reused.</summary>
internal sealed class DeviceStep(Accelerator accelerator) : IDisposable
{
    private readonly Dictionary<string, MemoryBuffer1D<int, Stride1D.Dense>> _buffers = [];
    private int[] _items = new int[80];
    private int[] _splitRows = new int[16];
    private (int, int, Kernels.AttentionSplitMode)? _itemsKey;

    public StepMetadata? Meta { get; private set; }
    public ArrayView<int> TokenIds { get; private set; }
    public ArrayView<int> Positions { get; private set; }
    public ArrayView<int> SlotMapping { get; private set; }
    public ArrayView<int> BlockTables { get; private set; }
    public ArrayView<int> SampleRows { get; private set; }
    /// <summary>[NumItems * ItemInts] attention work items (see <see cref="Kernels.PagedAttentionKernel.ItemInts"/>).</summary>
    public ArrayView<int> Items { get; private set; }
    public int NumItems { get; private set; }
    /// <summary>[NumSplitSlots] the token row of each split slot (tokens of tiles whose partitions run in separate groups).</summary>
    public ArrayView<int> SplitRows { get; private set; }
    public int NumSplitSlots { get; private set; }
    /// <summary>Most partitions of any split tile (the partials buffer's per-slot capacity).</summary>
    public int MaxSplitParts { get; private set; }

    public void Upload(StepMetadata m)
    {
        Meta = m;
        _itemsKey = null;
        TokenIds = Put("tokens", m.TokenIds, m.NumTokens);
        Positions = Put("positions", m.Positions, m.NumTokens);
        SlotMapping = Put("slots", m.SlotMapping, m.NumTokens);
        BlockTables = Put("blocks", m.BlockTables, m.NumSeqs * m.MaxBlocksPerSeq);
        SampleRows = Put("samples", m.SampleRows, m.NumSample);
    }

    /// <summary>
    /// Splits every sequence's new tokens into tiles of at most <paramref name="tileTokens"/> and turns each
    /// tile into work items: one that walks all its KV partitions, or, when <paramref name="mode"/> splits it,
    /// one per partition (once per step and configuration).
    /// </summary>
    public void EnsureItems(int tileTokens, int partitionKeys, Kernels.AttentionSplitMode mode)
    {
        var m = Meta ?? throw new InvalidOperationException("BeginStep was not called");
        var key = (tileTokens, partitionKeys, mode);
        if (key == _itemsKey) return;
        int n = 0, slots = 0, maxParts = 1;
        for (int s = 0; s < m.NumSeqs; s++)
        {
            for (int t = m.QueryStart[s]; t < m.QueryStart[s + 1]; t += tileTokens)
            {
                int count = Math.Min(tileTokens, m.QueryStart[s + 1] - t);
                int parts = (m.Positions[t + count - 1] + partitionKeys) / partitionKeys;
                bool split = parts > 1 && (mode == Kernels.AttentionSplitMode.Always || (mode == Kernels.AttentionSplitMode.Auto && count == 1));
                for (int pi = 0; pi < (split ? parts : 1); pi++)
                    Add(ref n, s, t, count, split ? pi : -1, split ? slots : 0);
                if (!split) continue;
                for (int i = 0; i < count; i++)
                {
                    if (_splitRows.Length <= slots) Array.Resize(ref _splitRows, _splitRows.Length * 2);
                    _splitRows[slots++] = t + i;
                }
                maxParts = Math.Max(maxParts, parts);
            }
        }
        NumItems = n;
        Items = Put("items", _items, Kernels.PagedAttentionKernel.ItemInts * n);
        NumSplitSlots = slots;
        SplitRows = Put("split_rows", _splitRows, slots);
        MaxSplitParts = maxParts;
        _itemsKey = key;
    }

    private void Add(ref int n, int seq, int start, int count, int part, int slot)
    {
        const int w = Kernels.PagedAttentionKernel.ItemInts;
        if (_items.Length < w * (n + 1)) Array.Resize(ref _items, _items.Length * 2);
        _items[w * n] = seq;
        _items[w * n + 1] = start;
        _items[w * n + 2] = count;
        _items[w * n + 3] = part;
        _items[w * n + 4] = slot;
        n++;
    }

    private ArrayView<int> Put(string name, int[] src, int n)
    {
        if (!_buffers.TryGetValue(name, out var buf) || buf.Length < Math.Max(n, 1))
        {
            buf?.Dispose();
            buf = accelerator.Allocate1D<int>(Math.Max(Math.Max(n, 1), src.Length));
            _buffers[name] = buf;
        }
        var view = buf.View.SubView(0, Math.Max(n, 1));
        if (n > 0) buf.View.SubView(0, n).CopyFromCPU(ref src[0], n);
        return view.AsContiguous();
    }

    public void Dispose()
    {
        foreach (var b in _buffers.Values) b.Dispose();
        _buffers.Clear();
    }
}
