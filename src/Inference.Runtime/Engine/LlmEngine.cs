using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Inference.Execution;
using Inference.Kernels;
using Inference.Models;
using Inference.Sampling;
using Inference.Scheduling;

namespace Inference.Engine;

/// <summary>Engine-wide counters for metrics and the CLI.</summary>
public readonly record struct EngineStats(SchedulerStats Scheduler, long PromptTokensTotal, long GenerationTokensTotal, long StepsTotal);

/// <summary>
/// Continuous batching on a dedicated thread: each step the scheduler hands out a token budget across
/// running and waiting requests, the model runs one ragged batch, every sampling sequence draws from its
/// own seeded generator, and outputs stream to each request's channel. Add and abort are thread-safe.
/// </summary>
public sealed class LlmEngine : IDisposable
{
    private readonly LoadedModel _model;
    private readonly ModelRunner _runner;
    private readonly Scheduler _scheduler;
    private readonly Sampler _sampler = new();
    private readonly Action<string>? _log;
    // Adds and aborts in one queue, so an abort issued right after its add is never applied before it.
    private readonly ConcurrentQueue<Command> _commands = new();
    private readonly SemaphoreSlim _signal = new(0);
    private readonly Dictionary<string, SequenceState> _sequences = new();
    private readonly Dictionary<string, RequestGroup> _groups = new();
    private readonly Dictionary<string, int> _sampled = new();
    private readonly Thread _thread;
    private readonly int[] _eosIds;
    private volatile bool _stopping;
    private int[] _tokenScratch = new int[256];
    private long _promptTokens, _generationTokens, _steps;
    // Published as one immutable box so readers on other threads never see a half-written struct.
    private volatile StrongBox<SchedulerStats> _lastStats;
    private int _pendingCount;

    public IEngineObserver? Observer { get; set; }
    public LoadedModel Model => _model;
    public EngineOptions Options { get; }
    public int MaxModelLen { get; }
    public int NumBlocks { get; }

    public LlmEngine(LoadedModel model, IComputeBackend backend, EngineOptions options, Action<string>? log = null)
    {
        options.Validate();
        _model = model;
        _log = log;
        Options = options;
        var c = model.Config;
        MaxModelLen = Math.Min(options.MaxModelLen ?? c.MaxPositionEmbeddings, c.MaxPositionEmbeddings);
        var dtype = options.ResolveKvCacheDType(backend);
        long bytesPerBlock = new KvCacheShape(c.NumLayers, 1, options.BlockSize, c.NumKvHeads, c.HeadDim, dtype).BytesPerBlock();
        long memory = options.KvCacheMemory ?? DefaultKvMemory(bytesPerBlock, options, MaxModelLen);
        NumBlocks = (int)Math.Min(int.MaxValue / options.BlockSize, memory / bytesPerBlock);
        if (NumBlocks < 2)
            throw new InferenceException($"--kv-cache-memory {memory} bytes holds {NumBlocks} blocks of {bytesPerBlock} bytes; at least 2 are needed");
        log?.Invoke($"KV cache: {NumBlocks} blocks of {options.BlockSize} tokens ({(NumBlocks - 1L) * options.BlockSize} tokens, {memory / (1024.0 * 1024.0):F1} MiB, {dtype})");
        int maxTokens = Math.Max(options.MaxNumBatchedTokens, 1);
        var loading = System.Diagnostics.Stopwatch.StartNew();
        var llama = new LlamaModel(backend, model.Weights, maxTokens, options.MaxNumSeqs);
        // On the CPU this packs the matrices for its kernels; on a GPU it copies them to the device.
        log?.Invoke($"weights prepared on {backend.Name} in {loading.Elapsed.TotalSeconds:F1} s");
        var allocating = System.Diagnostics.Stopwatch.StartNew();
        _runner = new ModelRunner(llama, NumBlocks, options.BlockSize, dtype);
        log?.Invoke($"KV cache allocated and zeroed in {allocating.Elapsed.TotalSeconds:F1} s");
        _scheduler = new Scheduler(new SchedulerConfig
        {
            MaxNumBatchedTokens = maxTokens,
            MaxNumSeqs = options.MaxNumSeqs,
            BlockSize = options.BlockSize,
            NumBlocks = NumBlocks,
            MaxModelLen = MaxModelLen,
            EnablePrefixCaching = options.EnablePrefixCaching,
            MaxWaiting = options.MaxWaiting,
        });
        _eosIds = model.EosTokenIds.ToArray();
        _lastStats = new(_scheduler.GetStats());
        _thread = new Thread(Loop) { IsBackground = true, Name = "inference-engine" };
        _thread.Start();
    }

    private static long DefaultKvMemory(long bytesPerBlock, EngineOptions o, int maxModelLen)
    {
        long available = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        long share = available / 5;
        long blocksPerSeq = (maxModelLen + o.BlockSize - 1) / o.BlockSize;
        long enough = (o.MaxNumSeqs * blocksPerSeq + 1) * bytesPerBlock;
        return Math.Max(2 * bytesPerBlock, Math.Min(share, enough));
    }

    /// <summary>True when the waiting queue is at --max-waiting (the server answers 429).</summary>
    public bool IsOverloaded => Options.MaxWaiting >= 0 && Volatile.Read(ref _pendingCount) + _lastStats.Value.NumWaiting >= Options.MaxWaiting;

    public EngineStats GetStats() => new(_lastStats.Value, Interlocked.Read(ref _promptTokens), Interlocked.Read(ref _generationTokens), Interlocked.Read(ref _steps));

    /// <summary>
    /// Queues a request and returns the reader of its outputs; with n &gt; 1 the samples share the prompt's
    /// blocks and carry their Index. Cancelling the token aborts the request.
    /// </summary>
    public ChannelReader<RequestOutput> AddRequest(string id, int[] promptTokenIds, SamplingParams p, CancellationToken cancellationToken = default)
    {
        p.Validate();
        if (promptTokenIds.Length == 0) throw new InferenceException("the prompt must contain at least one token");
        foreach (int t in promptTokenIds)
            if ((uint)t >= (uint)_model.Config.VocabSize)
                throw new InferenceException($"token id {t} is outside the vocabulary (size {_model.Config.VocabSize})");
        if (promptTokenIds.Length >= MaxModelLen)
            throw new InferenceException($"the prompt has {promptTokenIds.Length} tokens; this model's context is {MaxModelLen} tokens");
        if (_stopping) throw new ObjectDisposedException(nameof(LlmEngine));
        var channel = Channel.CreateUnbounded<RequestOutput>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        var group = new RequestGroup(id, channel.Writer, p.N) { Cancellation = cancellationToken };
        ulong baseSeed = p.Seed ?? (ulong)Random.Shared.NextInt64();
        var requests = new Request[p.N];
        for (int i = 0; i < p.N; i++)
        {
            // As in vLLM, sample i of a seeded request uses seed + i, so n=4 equals four seeded runs.
            var childParams = p.N == 1 ? p : p with { N = 1, Seed = baseSeed + (ulong)i };
            string childId = p.N == 1 ? id : $"{id}#{i}";
            var r = new Request(childId, promptTokenIds, childParams) { MaxModelLen = MaxModelLen };
            r.EosTokenIds = _eosIds;
            requests[i] = r;
            var state = new SequenceState(r, i, group, childParams.Seed ?? baseSeed, _model.Tokenizer);
            r.Tag = state; // the step loop reaches a request's state without a dictionary lookup
            group.Sequences.Add(state);
        }
        if (cancellationToken.CanBeCanceled)
            group.Registration = cancellationToken.Register(() => Abort(id));
        Interlocked.Increment(ref _pendingCount);
        _commands.Enqueue(new Command(group, requests, null));
        _signal.Release();
        return channel.Reader;
    }

    /// <summary>Streams a request's outputs as they are produced.</summary>
    public async IAsyncEnumerable<RequestOutput> GenerateAsync(string id, int[] promptTokenIds, SamplingParams p,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var reader = AddRequest(id, promptTokenIds, p, cancellationToken);
        await foreach (var o in reader.ReadAllAsync(CancellationToken.None))
            yield return o;
    }

    /// <summary>Aborts a request in any state; its blocks are free after the next step.</summary>
    public void Abort(string id)
    {
        _commands.Enqueue(new Command(null, null, id));
        _signal.Release();
    }

    private void Loop()
    {
        while (!_stopping)
        {
            try
            {
                DrainCommands();
                if (!_scheduler.HasUnfinishedRequests)
                {
                    _lastStats = new(_scheduler.GetStats());
                    _signal.Wait();
                    continue;
                }
                Step();
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // A failed step must not take the server down: fail the requests in flight and go on.
                _log?.Invoke($"engine step failed: {e}");
                FailAll(e.Message);
            }
        }
        // Requests queued while stopping still get a final output.
        DrainCommands();
        FailAll("the engine is shutting down");
    }

    private void DrainCommands()
    {
        while (_commands.TryDequeue(out var command))
        {
            if (command.AbortId is { } id)
            {
                AbortGroup(id);
                continue;
            }
            var add = command.Group!;
            Interlocked.Decrement(ref _pendingCount);
            if (_groups.ContainsKey(add.Id) || add.Sequences.Exists(s => _sequences.ContainsKey(s.Request.Id)))
            {
                // The scheduler would throw on the duplicate and the loop would fail every request in flight.
                Reject(add, $"request id '{add.Id}' is already in use");
                continue;
            }
            _groups[add.Id] = add;
            foreach (var s in add.Sequences) _sequences[s.Request.Id] = s;
            foreach (var r in command.Requests!) _scheduler.AddRequest(r);
            // A token cancelled before AddRequest ran its abort callback before the add was queued.
            if (add.Cancellation.IsCancellationRequested) AbortGroup(add.Id);
        }
    }

    private void AbortGroup(string id)
    {
        if (!_groups.TryGetValue(id, out var g)) return;
        foreach (var s in g.Sequences)
            if (!s.Done && _scheduler.AbortRequest(s.Request.Id))
                Finish(s, FinishReason.Abort, null);
    }

    /// <summary>Ends a group that never reached the scheduler with an error on each of its sequences.</summary>
    private static void Reject(RequestGroup g, string error)
    {
        foreach (var s in g.Sequences)
        {
            s.Done = true;
            s.Group.Writer.TryWrite(new RequestOutput
            {
                RequestId = g.Id, Index = s.Index, TextDelta = "", TokenIds = [], Finished = true,
                FinishReason = FinishReason.Error, PromptTokens = s.Request.NumPromptTokens, Error = error,
            });
        }
        g.Writer.TryComplete();
        g.Registration.Dispose();
    }

    private void Step()
    {
        var output = _scheduler.Schedule();
        long now = Stopwatch.GetTimestamp();
        // An id reported finished may already belong to a new request that reused it (the old one ended on a
        // stop string and was answered last step): only a request the scheduler itself finished ends here.
        foreach (var id in output.FinishedRequestIds)
            if (_sequences.TryGetValue(id, out var s) && !s.Done && s.Request.IsFinished)
                Finish(s, s.Request.FinishReason ?? FinishReason.Error, s.Request.ErrorMessage);
        if (output.IsEmpty)
        {
            // UpdateFromOutput must run even now: it reports requests refused at admission (more KV than the whole
            // pool), which never reach a batch; skipping it left them unanswered and the loop spinning forever.
            _sampled.Clear();
            var refused = _scheduler.UpdateFromOutput(output, _sampled);
            foreach (var r in refused)
                if (_sequences.TryGetValue(r.Id, out var state) && r.IsFinished)
                    Finish(state, r.FinishReason ?? FinishReason.Error, r.ErrorMessage);
            _lastStats = new(_scheduler.GetStats());
            if (output.FinishedRequestIds.Count == 0 && refused.Count == 0) _signal.Wait(10);
            return;
        }

        _runner.BeginBatch();
        int promptTokens = 0, genTokens = 0;
        var scheduled = output.ScheduledRequests;
        Span<int> rows = scheduled.Count <= 256 ? stackalloc int[scheduled.Count] : new int[scheduled.Count];
        // One path per step keeps it simple: a single row that needs the distribution brings all logits back.
        bool argMax = Options.DeviceArgMax;
        for (int i = 0; i < scheduled.Count; i++)
        {
            var sr = scheduled[i];
            var r = sr.Request;
            if (_tokenScratch.Length < sr.NumNewTokens) _tokenScratch = new int[Math.Max(sr.NumNewTokens, _tokenScratch.Length * 2)];
            r.CopyTokens(sr.StartPosition, _tokenScratch.AsSpan(0, sr.NumNewTokens));
            rows[i] = _runner.AddSequence(_tokenScratch.AsSpan(0, sr.NumNewTokens), sr.StartPosition, sr.BlockTable, sr.WillSample);
            if (sr.WillSample) argMax &= Sampler.IsPlainGreedy(r.SamplingParams, r.NumOutputTokens);
            var state = (SequenceState)r.Tag!;
            if (state.FirstScheduledTicks == 0) state.FirstScheduledTicks = now;
            int promptPart = Math.Max(0, Math.Min(sr.StartPosition + sr.NumNewTokens, r.NumPromptTokens) - sr.StartPosition);
            promptTokens += promptPart;
        }
        ReadOnlySpan<int> greedy = default;
        ReadOnlySpan<float> logits = default;
        if (argMax) greedy = _runner.ExecuteArgMax();
        else logits = _runner.Execute();
        int v = _runner.VocabSize;
        _sampled.Clear();
        for (int i = 0; i < scheduled.Count; i++)
        {
            if (rows[i] < 0) continue;
            var r = scheduled[i].Request;
            var state = (SequenceState)r.Tag!;
            int token;
            if (argMax)
            {
                token = greedy[rows[i]];
            }
            else
            {
                token = _sampler.Sample(logits.Slice(rows[i] * v, v), r.SamplingParams, r.PromptTokenIds, r.OutputTokenIds, state.Random, out var lp, r.EosTokenIds);
                if (lp is not null) (state.PendingLogprobs ??= []).Add(lp);
            }
            _sampled[r.Id] = token;
            genTokens++;
        }
        var updated = _scheduler.UpdateFromOutput(output, _sampled);
        now = Stopwatch.GetTimestamp();
        foreach (var r in updated)
        {
            if (r.Tag is not SequenceState state || state.Done) continue;
            FinishReason? reason = r.FinishReason;
            if (_sampled.TryGetValue(r.Id, out int token))
            {
                double gap = state.MarkToken(now);
                if (gap >= 0) Observer?.OnInterTokenLatency(gap);
                if (r.IsFinished && r.FinishReason == FinishReason.Stop)
                {
                    // EOS or a stop token id: as in vLLM, the token is in token_ids but its text is not emitted.
                    if (r.StopReasonTokenId is { } st) state.SetStopTokenReason(st);
                }
                else if (state.AppendToken(token) is not null)
                {
                    // A stop string wins over a length limit reached by the same token (vLLM reports "stop").
                    if (!r.IsFinished) _scheduler.FinishRequest(r.Id, FinishReason.Stop);
                    reason = FinishReason.Stop;
                }
            }
            if (r.IsFinished) Finish(state, reason ?? FinishReason.Stop, r.ErrorMessage);
            else Emit(state, finished: false, null, null);
        }
        Interlocked.Add(ref _promptTokens, promptTokens);
        Interlocked.Add(ref _generationTokens, genTokens);
        Interlocked.Increment(ref _steps);
        var stats = _scheduler.GetStats();
        _lastStats = new(stats);
        Observer?.OnStep(output.TotalNumScheduledTokens, promptTokens, genTokens, output.PreemptedRequestIds.Count, stats);
    }

    private void Emit(SequenceState s, bool finished, FinishReason? reason, string? error)
    {
        var r = s.Request;
        string delta = s.TakeDelta(finished);
        var logprobs = s.PendingLogprobs;
        s.PendingLogprobs = null;
        var tokens = NewTokens(s);
        if (!finished && delta.Length == 0 && tokens.Count == 0) return;
        s.Group.Writer.TryWrite(new RequestOutput
        {
            RequestId = s.Group.Id,
            Index = s.Index,
            TextDelta = delta,
            TokenIds = tokens,
            Logprobs = logprobs,
            Finished = finished,
            FinishReason = reason,
            StopReason = finished ? s.StopReason : null,
            PromptTokens = r.NumPromptTokens,
            CompletionTokens = r.NumOutputTokens,
            CachedPromptTokens = r.NumCachedTokens,
            Error = error,
        });
    }

    // Tokens appended since the last emit: at most one per step, the last output token.
    private static IReadOnlyList<int> NewTokens(SequenceState s)
    {
        var r = s.Request;
        int sent = s.EmittedTokens;
        int n = r.NumOutputTokens;
        if (n <= sent) return [];
        s.EmittedTokens = n;
        return n - sent == 1 ? [r.OutputTokenIds[sent]] : r.OutputTokenIds.GetRange(sent, n - sent);
    }

    private void Finish(SequenceState s, FinishReason reason, string? error)
    {
        if (s.Done) return;
        s.Done = true;
        Emit(s, finished: true, reason, error);
        _sequences.Remove(s.Request.Id);
        var r = s.Request;
        long now = Stopwatch.GetTimestamp();
        double Sec(long from, long to) => from == 0 || to == 0 ? 0 : (to - from) / (double)Stopwatch.Frequency;
        int gen = r.NumOutputTokens;
        Observer?.OnRequestFinished(new RequestMetrics(reason, r.NumPromptTokens, gen,
            Sec(r.ArrivalTimestamp, s.FirstScheduledTicks), Sec(s.FirstScheduledTicks, s.FirstTokenTicks),
            Sec(r.ArrivalTimestamp, s.FirstTokenTicks), Sec(r.ArrivalTimestamp, now), gen > 1 ? s.InterTokenSum / (gen - 1) : 0));
        var g = s.Group;
        if (--g.Remaining == 0)
        {
            g.Writer.TryComplete();
            g.Registration.Dispose();
            _groups.Remove(g.Id);
        }
    }

    private void FailAll(string message)
    {
        foreach (var s in _sequences.Values.ToArray())
        {
            _scheduler.FinishRequest(s.Request.Id, FinishReason.Error);
            Finish(s, FinishReason.Error, message);
        }
    }

    private readonly record struct Command(RequestGroup? Group, Request[]? Requests, string? AbortId);

    public void Dispose()
    {
        if (_stopping) return;
        _stopping = true;
        _signal.Release();
        _thread.Join();
        _runner.Dispose();
        _signal.Dispose();
    }
}
