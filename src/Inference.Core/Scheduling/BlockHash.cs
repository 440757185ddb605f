using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Inference.Scheduling;

/// <summary>128-bit chained identity of a full KV block: hash(parent block's hash, this block's token ids).</summary>
/// <remarks>
/// Chaining makes a block's hash stand for the whole prefix up to and including it, so one map lookup per block
/// finds the longest cached prefix. SHA-256 (truncated) rather than a fast non-cryptographic hash because it is
/// in the BCL and it makes crafted collisions impractical; each full block is hashed once per request, so its
/// cost does not matter next to a forward pass. The pool still compares tokens on every hit, so an accidental
/// collision becomes a cache miss, never wrong KV.
/// </remarks>
public readonly record struct BlockHash(ulong Lo, ulong Hi)
{
    /// <summary>The parent of a request's first block.</summary>
    public static BlockHash None => default;

    public static BlockHash Compute(BlockHash parent, ReadOnlySpan<int> tokens)
    {
        int length = 16 + tokens.Length * sizeof(int);
        byte[]? rented = null;
        Span<byte> buffer = length <= 1024 ? stackalloc byte[1024] : (rented = ArrayPool<byte>.Shared.Rent(length));
        buffer = buffer[..length];
        // Explicit little-endian so a hash means the same thing on every host (hashes may be logged or compared across runs).
        BinaryPrimitives.WriteUInt64LittleEndian(buffer, parent.Lo);
        BinaryPrimitives.WriteUInt64LittleEndian(buffer[8..], parent.Hi);
        for (int i = 0; i < tokens.Length; i++)
            BinaryPrimitives.WriteInt32LittleEndian(buffer[(16 + i * sizeof(int))..], tokens[i]);

        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(buffer, digest);
        if (rented is not null)
            ArrayPool<byte>.Shared.Return(rented);
        return new BlockHash(BinaryPrimitives.ReadUInt64LittleEndian(digest), BinaryPrimitives.ReadUInt64LittleEndian(digest[8..]));
    }

    public override string ToString() => $"{Hi:x16}{Lo:x16}";
}

/// <summary>Seam for tests: lets them force hash collisions.</summary>
internal delegate BlockHash BlockHasher(BlockHash parent, ReadOnlySpan<int> tokens);
