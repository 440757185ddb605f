using ILGPU;
using ILGPU.Runtime;

namespace Inference.Kernels.Ilgpu;

/// <summary>The step's metadata on the device, uploaded once per step; buffers grow and are reused.</summary>
internal sealed class DeviceStep(Accelerator accelerator) : IDisposable
{
    private readonly Dictionary<string, MemoryBuffer1D<int, Stride1D.Dense>> _buffers = [];
    private int[] _tiles = new int[48];
    private int _tileTokens = -1;

    public StepMetadata? Meta { get; private set; }
    public ArrayView<int> TokenIds { get; private set; }
    public ArrayView<int> Positions { get; private set; }
    public ArrayView<int> SlotMapping { get; private set; }
    public ArrayView<int> BlockTables { get; private set; }
    public ArrayView<int> SampleRows { get; private set; }
    /// <summary>[NumTiles * 3] (sequence, first token row, token count) of each attention query tile.</summary>
    public ArrayView<int> Tiles { get; private set; }
    public int NumTiles { get; private set; }

    public void Upload(StepMetadata m)
    {
        Meta = m;
        _tileTokens = -1;
        TokenIds = Put("tokens", m.TokenIds, m.NumTokens);
        Positions = Put("positions", m.Positions, m.NumTokens);
        SlotMapping = Put("slots", m.SlotMapping, m.NumTokens);
        BlockTables = Put("blocks", m.BlockTables, m.NumSeqs * m.MaxBlocksPerSeq);
        SampleRows = Put("samples", m.SampleRows, m.NumSample);
    }

    /// <summary>Splits every sequence's new tokens into tiles of at most <paramref name="tileTokens"/> (once per step and tile size).</summary>
    public void EnsureTiles(int tileTokens)
    {
        var m = Meta ?? throw new InvalidOperationException("BeginStep was not called");
        if (tileTokens == _tileTokens) return;
        int n = 0;
        for (int s = 0; s < m.NumSeqs; s++)
        {
            for (int t = m.QueryStart[s]; t < m.QueryStart[s + 1]; t += tileTokens)
            {
                if (_tiles.Length < 3 * (n + 1)) Array.Resize(ref _tiles, _tiles.Length * 2);
                _tiles[3 * n] = s;
                _tiles[3 * n + 1] = t;
                _tiles[3 * n + 2] = Math.Min(tileTokens, m.QueryStart[s + 1] - t);
                n++;
            }
        }
        NumTiles = n;
        Tiles = Put("tiles", _tiles, 3 * n);
        _tileTokens = tileTokens;
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
