using Inference.Kernels;

namespace Inference.Engine;

/// <summary>Engine settings (the server's and CLI's --block-size, --kv-cache-memory, ...).</summary>
public sealed record EngineOptions
{
    public int BlockSize { get; init; } = 16;
    /// <summary>Bytes for the KV pool; null picks a share of free memory, capped at what MaxNumSeqs full contexts need.</summary>
    public long? KvCacheMemory { get; init; }
    public int MaxNumBatchedTokens { get; init; } = 2048;
    public int MaxNumSeqs { get; init; } = 64;
    public bool EnablePrefixCaching { get; init; } = true;
    /// <summary>Null uses max_position_embeddings from config.json.</summary>
    public int? MaxModelLen { get; init; }
    /// <summary>Waiting-queue limit beyond which new requests are refused (HTTP 429); -1 is unlimited.</summary>
    public int MaxWaiting { get; init; } = -1;
    /// <summary>KV element type; null (auto) takes the backend's preference: F16 on CUDA, F32 on the CPU.</summary>
    public KvCacheDType? KvCacheDType { get; init; }
    /// <summary>
    /// Steps whose sampling rows are all plain greedy take the backend's argmax instead of copying the logits back
    /// (same tokens; off only to compare the two paths).
    /// </summary>
    public bool DeviceArgMax { get; init; } = true;

    /// <summary>The KV element type for <paramref name="backend"/> after resolving auto.</summary>
    public KvCacheDType ResolveKvCacheDType(IComputeBackend backend) => KvCacheDType ?? backend.PreferredKvCacheDType;

    /// <summary>Parses --kv-cache-dtype: auto (null), f32, f16 or bf16.</summary>
    public static KvCacheDType? ParseKvCacheDType(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        null or "" or "auto" => null,
        "f32" or "float32" or "float" => Kernels.KvCacheDType.F32,
        "f16" or "float16" or "half" => Kernels.KvCacheDType.F16,
        "bf16" or "bfloat16" => Kernels.KvCacheDType.BF16,
        _ => throw new InferenceException($"--kv-cache-dtype must be auto, f32, f16 or bf16, got '{value}'"),
    };

    public void Validate()
    {
        if (BlockSize is < 1 or > 1024) throw new InferenceException($"--block-size must be in [1, 1024], got {BlockSize}");
        if (MaxNumBatchedTokens < 1) throw new InferenceException($"--max-num-batched-tokens must be >= 1, got {MaxNumBatchedTokens}");
        if (MaxNumSeqs < 1) throw new InferenceException($"--max-num-seqs must be >= 1, got {MaxNumSeqs}");
        if (KvCacheMemory is <= 0) throw new InferenceException($"--kv-cache-memory must be > 0 bytes, got {KvCacheMemory}");
        if (MaxModelLen is <= 0) throw new InferenceException($"--max-model-len must be > 0, got {MaxModelLen}");
    }
}
