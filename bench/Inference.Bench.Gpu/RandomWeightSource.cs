using Inference.Kernels;
using Inference.Models;

namespace Inference.Bench.Gpu;

/// <summary>F16 weights of small random values for throughput runs (values do not matter, shapes and bytes do).</summary>
public sealed unsafe class RandomWeightSource : IWeightSource
{
    private readonly List<HostWeight> _owned = [];
    private readonly ushort[] _pattern;

    public RandomWeightSource()
    {
        // One random block tiled over every matrix: generating a billion values one by one would dominate the run.
        var r = new Random(1);
        _pattern = new ushort[1 << 16];
        for (int i = 0; i < _pattern.Length; i++) _pattern[i] = BitConverter.HalfToUInt16Bits((Half)((r.NextDouble() * 2 - 1) * 0.05));
    }

    public IReadOnlyList<HostWeight> OwnedMatrices => _owned;

    public HostWeight Matrix(string name, int rows, int cols)
    {
        long n = (long)rows * cols;
        var buf = new NativeBuffer(n * 2);
        var dst = (ushort*)buf.Pointer;
        for (long i = 0; i < n; i += _pattern.Length)
            _pattern.AsSpan(0, (int)Math.Min(_pattern.Length, n - i)).CopyTo(new Span<ushort>(dst + i, (int)Math.Min(_pattern.Length, n - i)));
        var w = new HostWeight(name, WeightFormat.F16, rows, cols, buf.Pointer, owner: buf);
        _owned.Add(w);
        return w;
    }

    public HostWeight Vector(string name, int n)
    {
        var v = new float[n];
        Array.Fill(v, 1f);
        return HostWeight.FromFloats(name, 1, n, v);
    }
}
