using System.Buffers;
using System.Numerics.Tensors;

namespace Inference.Kernels;

/// <summary>An activation buffer [MaxRows, Cols] of F32 owned by a backend (host or device memory).</summary>
public interface IActivation : IDisposable
{
    int MaxRows { get; }
    int Cols { get; }
}

/// <summary>A weight a backend has taken over (the CPU keeps the mapped view; a GPU copies it).</summary>
public interface IDeviceWeight : IDisposable
{
    string Name { get; }
    int Rows { get; }
    int Cols { get; }
    WeightFormat Format { get; }
}

/// <summary>The paged K/V pool of all layers on a backend.</summary>
public interface IKvCache : IDisposable
{
    KvCacheShape Shape { get; }
}

/// <summary>
/// The ops a Llama-family forward pass needs, over a ragged batch described by <see cref="StepMetadata"/>.
/// Shapes are passed explicitly; every op must reduce each output element in an order that depends only on
/// that element's own row, so results are independent of what else is in the batch.
/// </summary>
public interface IComputeBackend : IDisposable
{
    string Name { get; }

    IDeviceWeight LoadWeight(HostWeight weight);

    /// <summary>
    /// Loads a table that is only read by <see cref="Embed"/> (never multiplied), so a backend can skip what it
    /// prepares for matmuls (the CPU backend's packed copy).
    /// </summary>
    IDeviceWeight LoadEmbeddingTable(HostWeight weight) => LoadWeight(weight);

    IActivation Allocate(int maxRows, int cols);
    IKvCache AllocateKvCache(KvCacheShape shape);

    /// <summary>The KV element type `--kv-cache-dtype auto` picks on this backend.</summary>
    KvCacheDType PreferredKvCacheDType => KvCacheDType.F32;

    /// <summary>Whether <see cref="AllocateKvCache"/> takes pools of this element type.</summary>
    bool SupportsKvCacheDType(KvCacheDType dtype) => true;

    /// <summary>Makes the step's metadata visible to the following ops (a GPU uploads it once).</summary>
    void BeginStep(StepMetadata meta);

    /// <summary>output[t] = table[TokenIds[t]] for the step's tokens.</summary>
    void Embed(IDeviceWeight table, IActivation output);

    /// <summary>y[r] = x[r] / rms(x[r]) * w for r &lt; rows.</summary>
    void RmsNorm(IActivation x, IDeviceWeight weight, float eps, IActivation y, int rows);

    /// <summary>y[r, o] = sum_k x[r, k] * W[o, k] (+ bias[o]) for r &lt; rows.</summary>
    void MatMul(IActivation x, IDeviceWeight weight, IDeviceWeight? bias, IActivation y, int rows);

    /// <summary>
    /// Two or three matmuls of the same x (Q/K/V, gate/up); a backend may fuse them into one launch.
    /// Each output equals what <see cref="MatMul"/> gives alone.
    /// </summary>
    void MatMulFused(IActivation x, int rows,
        IDeviceWeight w1, IDeviceWeight? b1, IActivation y1,
        IDeviceWeight w2, IDeviceWeight? b2, IActivation y2,
        IDeviceWeight? w3 = null, IDeviceWeight? b3 = null, IActivation? y3 = null)
    {
        MatMul(x, w1, b1, y1, rows);
        MatMul(x, w2, b2, y2, rows);
        if (w3 is not null && y3 is not null) MatMul(x, w3, b3, y3, rows);
    }

    /// <summary>Rotates q [rows, numHeads*headDim] and k [rows, numKvHeads*headDim] in place at the step's positions.</summary>
    void Rope(IActivation q, IActivation k, RopeTable table, int numHeads, int numKvHeads, int rows);

    /// <summary>Writes each token's k and v rows into the layer's pool at its slot.</summary>
    void StoreKv(IActivation k, IActivation v, IKvCache cache, int layer, int rows);

    /// <summary>Causal attention of every step token over its sequence's cached K/V (block tables), into output [rows, QDim].</summary>
    void Attention(IActivation q, IKvCache cache, int layer, AttentionShape shape, IActivation output);

    /// <summary>out[r] = silu(gate[r]) * up[r].</summary>
    void SiluMul(IActivation gate, IActivation up, IActivation output, int rows);

    /// <summary>x[r] += y[r].</summary>
    void Add(IActivation x, IActivation y, int rows);

    /// <summary>dst[i] = src[SampleRows[i]] for the step's NumSample rows.</summary>
    void GatherSampleRows(IActivation src, IActivation dst);

    /// <summary>Copies the first rows of x to host memory (row-major, Cols wide).</summary>
    void Read(IActivation x, int rows, Span<float> dst);

    /// <summary>
    /// For each of the first rows of x, the column of its largest element and that element, picked exactly as
    /// <see cref="TensorPrimitives.IndexOfMax{T}(ReadOnlySpan{T})"/> picks (see <see cref="ArgMaxOrder"/>), so greedy
    /// decoding gets the same token whether it reads the logits or asks for this. Only 2 * rows values reach the host.
    /// </summary>
    void ArgMax(IActivation x, int rows, Span<int> indices, Span<float> values)
    {
        // Backends without a kernel pay the full copy; pooled so a step still allocates nothing.
        int cols = x.Cols;
        float[] buffer = ArrayPool<float>.Shared.Rent(Math.Max(1, rows * cols));
        try
        {
            Read(x, rows, buffer.AsSpan(0, rows * cols));
            for (int r = 0; r < rows; r++)
            {
                var row = new ReadOnlySpan<float>(buffer, r * cols, cols);
                int i = TensorPrimitives.IndexOfMax(row);
                indices[r] = i;
                values[r] = row[i];
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(buffer);
        }
    }

    /// <summary>Waits for queued work (a no-op on the CPU).</summary>
    void Synchronize();
}
