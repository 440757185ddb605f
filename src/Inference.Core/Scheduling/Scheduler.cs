using System.Diagnostics;

namespace Inference.Scheduling;

/// <summary>Continuous batching in the vLLM v1 style: every step hands out a token budget, running requests first, then waiting ones.</summary>
/// <remarks>
/// <para>There are no prefill and decode phases: a request has NumComputedTokens and NumTokens, and a step computes
/// some of the difference. A decode is a chunk of 1; a long prompt is split across steps (chunked prefill); prefix-cache
/// hits start a request with NumComputedTokens &gt; 0; a preempted request recomputes from 0 as one long prefill.</para>
/// <para>Not thread-safe: the engine loop calls AddRequest / AbortRequest / FinishRequest between steps and
/// Schedule then UpdateFromOutput once per step.</para>
/// <para>Prompt sharing (n &gt; 1): blocks are cached only after their KV is computed (in UpdateFromOutput), so two
/// requests with the same prompt admitted in the same step would both compute it. With
/// <see cref="SchedulerConfig.DeferSharedPrefixes"/> a waiting request whose next uncached full block is being
/// computed by a running request is held back (later requests may go ahead of it) until that block is cached, then
/// admitted with the hit. This trades the siblings' first-token latency for computing and storing the prompt once.
/// Best effort: it only looks at running requests, and only at full blocks.</para>
/// </remarks>
public sealed class Scheduler
{
    private readonly SchedulerConfig _config;
    private readonly KvCacheManager _kv;
    private readonly Dictionary<string, Request> _requests = [];
    private readonly LinkedList<Request> _waiting = new();
    // Admission order, so the youngest (last admitted) is at the end and preempted first.
    private readonly List<Request> _running = [];
    private List<string> _finishedIds = [];
    // Requests refused at admission; reported by the next UpdateFromOutput since they never reach a batch.
    private readonly List<Request> _finishedOutsideStep = [];
    private long _numPreemptionsTotal;

    public Scheduler(SchedulerConfig config)
        : this(config, CreateKvCacheManager(config))
    {
    }

    internal Scheduler(SchedulerConfig config, KvCacheManager kvCacheManager)
    {
        config.Validate();
        _config = config;
        _kv = kvCacheManager;
    }

    public SchedulerConfig Config => _config;

    private static KvCacheManager CreateKvCacheManager(SchedulerConfig config)
    {
        // Validate first so a bad config surfaces as the user-facing error, not the pool's argument check.
        config.Validate();
        return new KvCacheManager(config.NumBlocks, config.BlockSize, config.EnablePrefixCaching);
    }

    public KvCacheManager KvCacheManager => _kv;

    public int NumWaiting => _waiting.Count;

    public int NumRunning => _running.Count;

    public bool HasUnfinishedRequests => _requests.Count > 0 || _finishedOutsideStep.Count > 0;

    /// <summary>True when the server should refuse new requests (HTTP 429) under <see cref="SchedulerConfig.MaxWaiting"/>.</summary>
    public bool IsWaitingQueueFull => _config.MaxWaiting >= 0 && _waiting.Count >= _config.MaxWaiting;

    public bool TryGetRequest(string id, out Request? request) => _requests.TryGetValue(id, out request);

    /// <summary>Queues a request. One that can never run (empty prompt, prompt over MaxModelLen, or more KV than the
    /// whole pool) is finished at once with <see cref="RequestStatus.FinishedError"/> and an ErrorMessage instead of
    /// waiting forever; check its status after the call, or collect it from the next UpdateFromOutput.</summary>
    public void AddRequest(Request request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (_requests.ContainsKey(request.Id))
            throw new InferenceException($"request id '{request.Id}' is already in use");
        if (request.Status != RequestStatus.Waiting || request.NumComputedTokens != 0 || request.NumOutputTokens != 0)
            throw new ArgumentException($"request '{request.Id}' has already been scheduled", nameof(request));
        if (request.MaxModelLen <= 0 || request.MaxModelLen > _config.MaxModelLen)
            request.MaxModelLen = _config.MaxModelLen;

        if (AdmissionError(request) is { } error)
        {
            request.Status = RequestStatus.FinishedError;
            request.FinishReason = FinishReason.Error;
            request.ErrorMessage = error;
            _finishedOutsideStep.Add(request);
            return;
        }
        _requests.Add(request.Id, request);
        request.WaitingNode = _waiting.AddLast(request);
    }

    /// <summary>Aborts a request in any state; its blocks are freed now. False when it is unknown or already finished.</summary>
    public bool AbortRequest(string id) => FinishRequest(id, FinishReason.Abort);

    /// <summary>Ends a request from outside the step (a stop string found by the detokenizer, a client disconnect).</summary>
    public bool FinishRequest(string id, FinishReason reason)
    {
        if (!_requests.TryGetValue(id, out Request? request)) return false;
        if (request.Status == RequestStatus.Running)
            _running.Remove(request);
        Finish(request, reason);
        return true;
    }

    /// <summary>Decides what the next forward pass computes.</summary>
    public SchedulerOutput Schedule()
    {
        int budget = _config.MaxNumBatchedTokens;
        var scheduled = new List<ScheduledRequest>(_running.Count + 4);
        var preempted = new List<string>();

        // Running requests first: they hold blocks, and finishing them is what frees memory for the queue.
        int index = 0;
        while (index < _running.Count && budget > 0)
        {
            Request request = _running[index];
            int numNew = ChunkSize(request, request.NumComputedTokens, budget);
            Debug.Assert(numNew > 0, "a running request always has an uncomputed token");
            bool allocated;
            while (!(allocated = _kv.AllocateSlots(request, numNew)))
            {
                // Youngest first: it has the least work to lose and was the last to be promised memory.
                Request victim = _running[^1];
                _running.RemoveAt(_running.Count - 1);
                Preempt(victim);
                preempted.Add(victim.Id);
                if (victim == request) break;
            }
            if (!allocated) break; // the request preempted itself, so it was the last running one
            scheduled.Add(new ScheduledRequest(request, numNew, request.NumComputedTokens,
                request.NumComputedTokens + numNew == request.NumTokens, _kv.GetBlockTable(request)));
            budget -= numNew;
            index++;
        }

        // A step that had to preempt is out of memory; admitting now would only preempt again.
        if (preempted.Count == 0)
            AdmitWaiting(scheduled, ref budget);

        List<string> finished = _finishedIds;
        _finishedIds = [];
        return new SchedulerOutput(scheduled, _config.MaxNumBatchedTokens - budget, preempted, finished);
    }

    /// <summary>Applies a finished step: advances computed tokens, caches newly full blocks, appends sampled tokens
    /// (sampledTokens holds one per scheduled request with WillSample) and checks stop conditions.</summary>
    /// <returns>Requests that got a token or finished in this step, plus any refused at admission since the last call.
    /// Call it every step, even after an empty schedule.</returns>
    public IReadOnlyList<Request> UpdateFromOutput(SchedulerOutput output, IReadOnlyDictionary<string, int> sampledTokens)
    {
        var changed = new List<Request>(output.ScheduledRequests.Count + _finishedOutsideStep.Count);
        changed.AddRange(_finishedOutsideStep);
        _finishedOutsideStep.Clear();

        bool anyFinished = false;
        foreach (ScheduledRequest item in output.ScheduledRequests)
        {
            Request request = item.Request;
            // Aborted or finished by the engine while the step ran: its blocks are already gone.
            if (request.Status != RequestStatus.Running) continue;
            Debug.Assert(request.NumComputedTokens == item.StartPosition);
            request.NumComputedTokens += item.NumNewTokens;
            _kv.CacheFullBlocks(request, request.NumComputedTokens);
            if (!item.WillSample) continue;

            if (!sampledTokens.TryGetValue(request.Id, out int token))
                throw new InvalidOperationException($"no sampled token for request '{request.Id}', which was scheduled to sample");
            request.OutputTokenIds.Add(token);
            if (StopReason(request, token) is { } reason)
            {
                Finish(request, reason);
                anyFinished = true;
            }
            changed.Add(request);
        }
        if (anyFinished)
            _running.RemoveAll(static r => r.IsFinished);
        return changed;
    }

    /// <summary>Forgets every cached prefix; false while any request holds blocks.</summary>
    public bool ResetPrefixCache() => _kv.ResetPrefixCache();

    public SchedulerStats GetStats() => new(
        _running.Count,
        _waiting.Count,
        _kv.Usage,
        _numPreemptionsTotal,
        _kv.PrefixCacheQueries,
        _kv.PrefixCacheHits,
        _kv.NumFreeBlocks,
        _kv.Pool.NumBlocks);

    internal IReadOnlyList<Request> Running => _running;

    internal IEnumerable<Request> Waiting => _waiting;

    private void AdmitWaiting(List<ScheduledRequest> scheduled, ref int budget)
    {
        LinkedListNode<Request>? node = _waiting.First;
        while (node is not null && budget > 0 && _running.Count < _config.MaxNumSeqs)
        {
            LinkedListNode<Request>? next = node.Next;
            Request request = node.Value;
            Debug.Assert(request.NumComputedTokens == 0);
            (IReadOnlyList<KvBlock> hits, int numHit) = _kv.GetComputedBlocks(request);
            if (_config.DeferSharedPrefixes && IsComputingSharedBlock(request, hits.Count))
            {
                node = next;
                continue;
            }
            int numNew = ChunkSize(request, numHit, budget);
            // Stop, don't skip: later requests must not overtake one that is only short of memory.
            if (!_kv.AllocateSlots(request, numNew, numHit, hits)) break;

            _waiting.Remove(node);
            request.WaitingNode = null;
            request.NumComputedTokens = numHit;
            if (!request.HasBeenScheduled)
            {
                request.HasBeenScheduled = true;
                request.NumCachedTokens = numHit;
            }
            request.Status = RequestStatus.Running;
            _running.Add(request);
            scheduled.Add(new ScheduledRequest(request, numNew, numHit, numHit + numNew == request.NumTokens, _kv.GetBlockTable(request)));
            budget -= numNew;
            node = next;
        }
    }

    private int ChunkSize(Request request, int numComputed, int budget)
    {
        int numNew = request.NumTokens - numComputed;
        if (_config.LongPrefillTokenThreshold > 0)
            numNew = Math.Min(numNew, _config.LongPrefillTokenThreshold);
        return Math.Min(numNew, budget);
    }

    /// <summary>Whether a running request is about to compute the waiting request's first uncached full block.</summary>
    private bool IsComputingSharedBlock(Request waiting, int numHitBlocks)
    {
        if (!_kv.EnablePrefixCaching) return false;
        int blockSize = _kv.BlockSize;
        int end = (numHitBlocks + 1) * blockSize;
        // Only blocks that could become hits matter; the last token is always recomputed.
        if (end > waiting.NumTokens - 1) return false;
        BlockHash wanted = waiting.BlockHashes[numHitBlocks];
        foreach (Request running in _running)
        {
            if (running.NumComputedTokens >= end || running.NumTokens < end) continue;
            _kv.EnsureBlockHashes(running, numHitBlocks + 1);
            if (running.BlockHashes[numHitBlocks] == wanted) return true;
        }
        return false;
    }

    private void Preempt(Request request)
    {
        _kv.Free(request);
        request.NumComputedTokens = 0;
        request.Status = RequestStatus.Preempted;
        request.NumPreemptions++;
        _numPreemptionsTotal++;
        // Front of the queue: it was admitted before everything still waiting.
        request.WaitingNode = _waiting.AddFirst(request);
    }

    private static bool Contains(IReadOnlyList<int> ids, int token)
    {
        for (int i = 0; i < ids.Count; i++)
            if (ids[i] == token) return true;
        return false;
    }

    private static FinishReason? StopReason(Request request, int token)
    {
        var sampling = request.SamplingParams;
        if (request.NumOutputTokens >= sampling.MinTokens)
        {
            if (!sampling.IgnoreEos && Contains(request.EosTokenIds, token))
                return FinishReason.Stop;
            IReadOnlyList<int> stopIds = sampling.StopTokenIds;
            for (int i = 0; i < stopIds.Count; i++)
            {
                if (stopIds[i] == token)
                {
                    request.StopReasonTokenId = token;
                    return FinishReason.Stop;
                }
            }
        }
        // Not gated by min_tokens: past MaxModelLen there are no positions left to compute.
        if (request.NumTokens >= request.MaxModelLen || request.NumOutputTokens >= sampling.MaxTokens)
            return FinishReason.Length;
        return null;
    }

    /// <summary>Terminal bookkeeping; the caller removes a running request from the running list.</summary>
    private void Finish(Request request, FinishReason reason)
    {
        if (request.WaitingNode is { } node)
        {
            _waiting.Remove(node);
            request.WaitingNode = null;
        }
        request.Status = reason.ToStatus();
        request.FinishReason = reason;
        _kv.Free(request);
        _requests.Remove(request.Id);
        _finishedIds.Add(request.Id);
    }

    private string? AdmissionError(Request request)
    {
        int maxLen = request.MaxModelLen;
        if (request.NumPromptTokens == 0)
            return "the prompt is empty; at least one token is needed";
        if (request.NumPromptTokens > maxLen)
            return $"the prompt has {request.NumPromptTokens} tokens, more than the maximum model length of {maxLen}";
        // The most KV the request can ever hold, so that alone in the pool it always fits.
        long needTokens = Math.Min((long)request.NumPromptTokens + request.SamplingParams.MaxTokens, maxLen);
        long needBlocks = (needTokens + _kv.BlockSize - 1) / _kv.BlockSize;
        int usable = _kv.Pool.NumBlocks - 1;
        if (needBlocks > usable)
            return $"the request needs KV cache for up to {needTokens} tokens (prompt {request.NumPromptTokens} + max_tokens "
                + $"{request.SamplingParams.MaxTokens}, capped at {maxLen}) = {needBlocks} blocks of {_kv.BlockSize}, but the whole cache "
                + $"has {usable} blocks ({(long)usable * _kv.BlockSize} tokens); lower max_tokens or the prompt length, or give the KV cache more memory";
        return null;
    }
}
