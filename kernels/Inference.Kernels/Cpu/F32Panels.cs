using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Inference.Kernels.Cpu;

/// <summary>
/// An F32 weight as the CPU matmul reads it: output features in panels of 64, each panel K-major ([k][64]), the
/// last panel zero-padded. A panel is one contiguous stream, and one broadcast x[k] times four vectors of it
/// advances 64 outputs at once (outer-product form), so every output element is a plain sequential FMA chain
/// over k (<see cref="PanelDot"/>) with no horizontal sum. Measured in-process against the row-dot kernels
/// (110m shapes): decode matvec 54 -> 64 GB/s on 2 threads, prefill tile 186 -> 227 GFLOP/s on one core.
/// </summary>
internal sealed unsafe class F32Panels : IDisposable
{
    public const int Width = 64;

    private NativeBuffer? _data;

    /// <summary>Whether this CPU takes the panel path for F32 weights (one path per machine keeps batch invariance).</summary>
    public static bool Supported => Vector512.IsHardwareAccelerated && Avx512F.IsSupported;

    public int Rows { get; }

    public int Cols { get; }

    private F32Panels(HostWeight w)
    {
        Rows = w.Rows;
        Cols = w.Cols;
        // Not zeroed here: Pack writes every float (padding too), on the threads that pack.
        _data = new NativeBuffer(Math.Max(1, (long)PanelCount * Cols * Width * 4), zeroed: false);
    }

    public int PanelCount => (Rows + Width - 1) / Width;

    /// <summary>Panel p: [Cols][64] floats.</summary>
    public float* Panel(int p) => (float*)_data!.Pointer + (long)p * Cols * Width;

    /// <summary>Packs an F32 weight, panels in parallel when it is large.</summary>
    public static F32Panels From(HostWeight w)
    {
        if (w.Format != WeightFormat.F32) throw new ArgumentException($"{w.Name}: panels are for F32 weights, not {w.Format}");
        var p = new F32Panels(w);
        if ((long)w.Rows * w.Cols < (1 << 20))
            for (int i = 0; i < p.PanelCount; i++) p.Pack(w, i);
        else
            Parallel.For(0, p.PanelCount, i => p.Pack(w, i));
        return p;
    }

    private void Pack(HostWeight w, int panel)
    {
        float* dst = Panel(panel);
        int first = panel * Width, n = Math.Min(Width, Rows - first);
        // 16 columns at a time: the panel's source rows (64 x K floats) stay in L2 while it is filled.
        for (int k0 = 0; k0 < Cols; k0 += 16)
        {
            int k1 = Math.Min(Cols, k0 + 16);
            for (int j = 0; j < n; j++)
            {
                float* src = (float*)w.Data + (long)(first + j) * Cols;
                for (int k = k0; k < k1; k++) dst[(long)k * Width + j] = src[k];
            }
            // The last panel's columns past the matrix: zero weights (their outputs are never written out).
            for (int j = n; j < Width; j++)
                for (int k = k0; k < k1; k++) dst[(long)k * Width + j] = 0f;
        }
    }

    public void Dispose()
    {
        _data?.Dispose();
        _data = null;
    }
}
