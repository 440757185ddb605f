namespace Inference.Scheduling;

/// <summary>Doubly linked list of free blocks threaded through the blocks themselves; head is evicted first.</summary>
/// <remarks>A LinkedList&lt;T&gt; would allocate a node per free; the intrusive links make free, allocate and
/// "a cached free block got a hit" all O(1) without allocating.</remarks>
internal sealed class FreeBlockQueue
{
    // Sentinels avoid null checks at both ends.
    private readonly KvBlock _head = new(-1);
    private readonly KvBlock _tail = new(-1);

    public FreeBlockQueue()
    {
        _head.NextFree = _tail;
        _tail.PrevFree = _head;
    }

    public int Count { get; private set; }

    public void Append(KvBlock block)
    {
        if (block.InFreeQueue) throw new InvalidOperationException($"{block} is already free");
        KvBlock last = _tail.PrevFree!;
        last.NextFree = block;
        block.PrevFree = last;
        block.NextFree = _tail;
        _tail.PrevFree = block;
        block.InFreeQueue = true;
        Count++;
    }

    public KvBlock PopFront()
    {
        KvBlock first = _head.NextFree!;
        if (first == _tail) throw new InvalidOperationException("no free blocks");
        Remove(first);
        return first;
    }

    public void Remove(KvBlock block)
    {
        if (!block.InFreeQueue) throw new InvalidOperationException($"{block} is not free");
        block.PrevFree!.NextFree = block.NextFree;
        block.NextFree!.PrevFree = block.PrevFree;
        block.PrevFree = null;
        block.NextFree = null;
        block.InFreeQueue = false;
        Count--;
    }

    /// <summary>Head to tail, i.e. in eviction order (tests and diagnostics).</summary>
    public IEnumerable<KvBlock> InEvictionOrder()
    {
        for (KvBlock b = _head.NextFree!; b != _tail; b = b.NextFree!)
            yield return b;
    }
}
