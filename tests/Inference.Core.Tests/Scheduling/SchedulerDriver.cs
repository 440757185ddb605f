using Inference.Sampling;
using Inference.Scheduling;

namespace Inference.Tests.Scheduling;

/// <summary>Plays the engine loop without a model: schedules, "computes" by writing token ids into simulated KV slots, samples, updates.</summary>
/// <remarks>The simulated KV store is what catches wrong block tables and wrong prefix hits: before a request computes,
/// every position it treats as already computed must hold its own token in the slot its block table points at.</remarks>
internal sealed class SchedulerDriver
{
    private readonly int[] _kvSlots;

    public SchedulerDriver(SchedulerConfig config, KvCacheManager? kv = null)
    {
        Scheduler = kv is null ? new Scheduler(config) : new Scheduler(config, kv);
        _kvSlots = new int[config.NumBlocks * config.BlockSize];
        Array.Fill(_kvSlots, -1);
    }

    public Scheduler Scheduler { get; }

    public SchedulerOutput? LastOutput { get; private set; }

    public static SchedulerConfig Config(int numBlocks, int blockSize = 4, int budget = 2048, int maxSeqs = 64, int maxModelLen = 1024) => new()
    {
        NumBlocks = numBlocks,
        BlockSize = blockSize,
        MaxNumBatchedTokens = budget,
        MaxNumSeqs = maxSeqs,
        MaxModelLen = maxModelLen,
    };

    public static Request MakeRequest(string id, int promptLength, int maxTokens, int firstToken = 1000, int? eos = null, SamplingParams? sampling = null)
    {
        int[] prompt = new int[promptLength];
        for (int i = 0; i < promptLength; i++) prompt[i] = firstToken + i;
        return new Request(id, prompt, sampling ?? new SamplingParams { MaxTokens = maxTokens }) { EosTokenId = eos };
    }

    /// <summary>One engine step; sample picks the token for each request that samples (default: 7).</summary>
    public (SchedulerOutput Output, IReadOnlyList<Request> Changed) Step(Func<Request, int>? sample = null)
    {
        SchedulerOutput output = Scheduler.Schedule();
        LastOutput = output;
        var sampled = new Dictionary<string, int>();
        int blockSize = Scheduler.KvCacheManager.BlockSize;
        foreach (ScheduledRequest s in output.ScheduledRequests)
        {
            Request r = s.Request;
            Assert.Equal(r.NumComputedTokens, s.StartPosition);
            Assert.True(s.NumNewTokens > 0);
            Assert.True(s.StartPosition + s.NumNewTokens <= r.NumTokens);
            Assert.Equal(s.StartPosition + s.NumNewTokens == r.NumTokens, s.WillSample);
            Assert.True(s.BlockTable.Count * blockSize >= s.StartPosition + s.NumNewTokens, "block table too short");
            for (int p = 0; p < s.StartPosition; p++)
                Assert.True(r.TokenAt(p) == _kvSlots[Slot(s.BlockTable, p, blockSize)], $"{r.Id}: stale KV at position {p}");
            for (int p = s.StartPosition; p < s.StartPosition + s.NumNewTokens; p++)
                _kvSlots[Slot(s.BlockTable, p, blockSize)] = r.TokenAt(p);
            if (s.WillSample)
                sampled[r.Id] = sample?.Invoke(r) ?? 7;
        }
        IReadOnlyList<Request> changed = Scheduler.UpdateFromOutput(output, sampled);
        return (output, changed);
    }

    /// <summary>Steps until nothing is left, failing if that takes more than maxSteps (a hang).</summary>
    public int RunToCompletion(int maxSteps = 10_000, Func<Request, int>? sample = null)
    {
        int steps = 0;
        while (Scheduler.HasUnfinishedRequests)
        {
            Assert.True(++steps <= maxSteps, "scheduler did not drain: likely a hang");
            Step(sample);
            SchedulerInvariants.Check(Scheduler);
        }
        return steps;
    }

    private static int Slot(IReadOnlyList<int> table, int position, int blockSize)
    {
        int block = table[position / blockSize];
        Assert.NotEqual(0, block);
        return block * blockSize + position % blockSize;
    }
}
