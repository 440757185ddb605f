using System.Runtime.CompilerServices;
using ILGPU;
using Half = ILGPU.Half;
using ILGPU.Runtime;
using Inference.Kernels.Ilgpu.Kernels;

namespace Inference.Kernels.Ilgpu;

/// <summary>A weight copied to the device in its stored format (F16 stays F16, Int4 stays packed).</summary>
public sealed unsafe class IlgpuWeight : IDeviceWeight
{
    private readonly MemoryBuffer1D<byte, Stride1D.Dense> _data;
    private readonly MemoryBuffer1D<byte, Stride1D.Dense>? _scales;
    private readonly MemoryBuffer1D<byte, Stride1D.Dense>? _zeros;

    public string Name { get; }
    public int Rows { get; }
    public int Cols { get; }
    public WeightFormat Format { get; }
    public int GroupSize { get; }
    /// <summary>Device bytes of data, scales and zero points.</summary>
    public long Bytes { get; }

    public IlgpuWeight(Accelerator accelerator, HostWeight w)
    {
        Name = w.Name;
        Rows = w.Rows;
        Cols = w.Cols;
        Format = w.Format;
        GroupSize = w.GroupSize;
        if (w.Format == WeightFormat.Int4 && (w.GroupSize <= 0 || w.Cols % w.GroupSize != 0 || w.Cols % 2 != 0))
            throw new ArgumentException($"{w.Name}: int4 needs an even Cols divisible by GroupSize (Cols {w.Cols}, group {w.GroupSize})");
        if (w.Format is WeightFormat.Int8 or WeightFormat.Int4 && w.Scales == null)
            throw new ArgumentException($"{w.Name}: {w.Format} weight without scales");
        _data = Upload(accelerator, w.Data, w.RowBytes * w.Rows);
        long bytes = w.RowBytes * w.Rows;
        if (w.Format == WeightFormat.Int8)
        {
            _scales = Upload(accelerator, w.Scales, w.Rows * 4L);
            bytes += w.Rows * 4L;
        }
        else if (w.Format == WeightFormat.Int4)
        {
            long groups = (long)w.Rows * (w.Cols / w.GroupSize);
            _scales = Upload(accelerator, w.Scales, groups * 2);
            bytes += groups * 2;
            if (w.ZeroPoints != null)
            {
                _zeros = Upload(accelerator, w.ZeroPoints, groups);
                bytes += groups;
            }
        }
        Bytes = bytes;
    }

    // Straight from the (usually memory-mapped) host pointer into device memory: no managed copy.
    private static MemoryBuffer1D<byte, Stride1D.Dense> Upload(Accelerator accelerator, void* src, long bytes)
    {
        var buf = accelerator.Allocate1D<byte>(Math.Max(bytes, 4));
        if (bytes > 0) buf.View.SubView(0, bytes).CopyFromCPU(ref Unsafe.AsRef<byte>(src), bytes);
        return buf;
    }

    private ArrayView<byte> Data => _data.View.AsContiguous();
    private ArrayView<byte> ScaleBytes => _scales!.View.AsContiguous();

    public F32Reader AsF32() => new() { Data = Data.Cast<float>(), ColCount = Cols };
    public F16Reader AsF16() => new() { Data = Data.Cast<Half>(), ColCount = Cols };
    public Bf16Reader AsBf16() => new() { Data = Data.Cast<ushort>(), ColCount = Cols };
    public Int8Reader AsInt8() => new() { Data = Data.Cast<sbyte>(), Scales = ScaleBytes.Cast<float>(), ColCount = Cols };

    public Int4Reader AsInt4() => new()
    {
        Data = Data,
        Scales = ScaleBytes.Cast<Half>(),
        // A kernel parameter cannot be absent: symmetric weights pass the data as a never-read stand-in.
        Zeros = _zeros is null ? Data : _zeros.View.AsContiguous(),
        HasZeros = _zeros is null ? 0 : 1,
        ColCount = Cols,
        GroupSize = GroupSize,
    };

    public void Dispose()
    {
        _data.Dispose();
        _scales?.Dispose();
        _zeros?.Dispose();
    }
}
