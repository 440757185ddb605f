using Inference.Sampling;
using Inference.Scheduling;
using static Inference.Tests.Scheduling.SchedulerDriver;

namespace Inference.Tests.Scheduling;

public class SchedulerTests
{
    [Fact]
    public void ChunkedPrefillSplitsTheBudgetThenDecodes()
    {
        var driver = new SchedulerDriver(Config(numBlocks: 64, blockSize: 16, budget: 32));
        Request r = MakeRequest("r", 100, maxTokens: 3);
        driver.Scheduler.AddRequest(r);

        var chunks = new List<(int Start, int Count, bool Sample)>();
        while (driver.Scheduler.HasUnfinishedRequests)
        {
            var (output, _) = driver.Step();
            ScheduledRequest s = Assert.Single(output.ScheduledRequests);
            Assert.Equal(s.NumNewTokens, output.TotalNumScheduledTokens);
            chunks.Add((s.StartPosition, s.NumNewTokens, s.WillSample));
        }
        Assert.Equal([(0, 32, false), (32, 32, false), (64, 32, false), (96, 4, true), (100, 1, true), (101, 1, true)], chunks);
        Assert.Equal(RequestStatus.FinishedLength, r.Status);
        Assert.Equal(3, r.NumOutputTokens);
    }

    [Fact]
    public void LongPrefillThresholdCapsOneRequestsChunk()
    {
        var config = Config(numBlocks: 64, blockSize: 16, budget: 64) with { LongPrefillTokenThreshold = 20 };
        var driver = new SchedulerDriver(config);
        driver.Scheduler.AddRequest(MakeRequest("a", 50, 1));
        driver.Scheduler.AddRequest(MakeRequest("b", 50, 1, firstToken: 5000));
        var (output, _) = driver.Step();
        Assert.Equal([20, 20], output.ScheduledRequests.Select(s => s.NumNewTokens));
    }

    [Fact]
    public void RunningRequestsAreScheduledBeforeWaitingOnes()
    {
        var driver = new SchedulerDriver(Config(numBlocks: 64, blockSize: 16, budget: 10));
        driver.Scheduler.AddRequest(MakeRequest("a", 10, maxTokens: 5));
        driver.Step();
        driver.Scheduler.AddRequest(MakeRequest("b", 30, maxTokens: 5, firstToken: 5000));

        var (output, _) = driver.Step();
        Assert.Equal(["a", "b"], output.ScheduledRequests.Select(s => s.Request.Id));
        Assert.Equal([1, 9], output.ScheduledRequests.Select(s => s.NumNewTokens));
        Assert.Equal(10, output.TotalNumScheduledTokens);

        (output, _) = driver.Step();
        Assert.Equal(["a", "b"], output.ScheduledRequests.Select(s => s.Request.Id));
        Assert.Equal([1, 9], output.ScheduledRequests.Select(s => s.NumNewTokens));
    }

    [Fact]
    public void WaitingRequestsAreAdmittedInArrivalOrder()
    {
        var driver = new SchedulerDriver(Config(numBlocks: 64, blockSize: 4, budget: 12));
        for (int i = 0; i < 3; i++)
            driver.Scheduler.AddRequest(MakeRequest($"r{i}", 5, maxTokens: 2, firstToken: 100 * i));
        var (output, _) = driver.Step();
        Assert.Equal(["r0", "r1", "r2"], output.ScheduledRequests.Select(s => s.Request.Id));
        Assert.Equal([5, 5, 2], output.ScheduledRequests.Select(s => s.NumNewTokens));
    }

    [Fact]
    public void MaxNumSeqsIsRespected()
    {
        var driver = new SchedulerDriver(Config(numBlocks: 64, blockSize: 4, maxSeqs: 2));
        for (int i = 0; i < 4; i++)
            driver.Scheduler.AddRequest(MakeRequest($"r{i}", 3, maxTokens: i < 2 ? 1 + i : 5, firstToken: 100 * i));

        var (output, _) = driver.Step();
        Assert.Equal(["r0", "r1"], output.ScheduledRequests.Select(s => s.Request.Id));
        Assert.Equal(2, driver.Scheduler.NumWaiting);
        // r0 finished after its single token, so one seat opened.
        (output, _) = driver.Step();
        Assert.Equal(["r1", "r2"], output.ScheduledRequests.Select(s => s.Request.Id));
        Assert.Equal(["r0"], output.FinishedRequestIds);
        while (driver.Scheduler.HasUnfinishedRequests)
        {
            (output, _) = driver.Step();
            Assert.True(output.ScheduledRequests.Count <= 2);
        }
    }

    [Fact]
    public void PoolShortagePreemptsTheYoungestWhichResumesAtTheFrontAndCompletes()
    {
        // 6 usable blocks of 4. Each request alone needs ceil((8 + 12) / 4) = 5, so both fit only for a while.
        var config = Config(numBlocks: 7, blockSize: 4) with { EnablePrefixCaching = false };
        var driver = new SchedulerDriver(config);
        Request a = MakeRequest("a", 8, maxTokens: 12, firstToken: 100);
        Request b = MakeRequest("b", 8, maxTokens: 12, firstToken: 200);
        Request c = MakeRequest("c", 8, maxTokens: 2, firstToken: 300);
        driver.Scheduler.AddRequest(a);
        driver.Scheduler.AddRequest(b);

        driver.Step();
        Assert.Equal(2, driver.Scheduler.NumRunning);
        driver.Scheduler.AddRequest(c); // can't be admitted: no blocks left after the next step

        SchedulerOutput? preemptingStep = null;
        for (int step = 0; step < 10 && preemptingStep is null; step++)
        {
            var (output, _) = driver.Step();
            SchedulerInvariants.Check(driver.Scheduler);
            if (output.PreemptedRequestIds.Count > 0) preemptingStep = output;
        }
        Assert.NotNull(preemptingStep);
        Assert.Equal(["b"], preemptingStep.PreemptedRequestIds);
        Assert.Equal(["a"], preemptingStep.ScheduledRequests.Select(s => s.Request.Id));
        Assert.Equal(RequestStatus.Preempted, b.Status);
        Assert.Equal(0, b.NumComputedTokens);
        Assert.Equal(1, b.NumPreemptions);
        Assert.Equal(["b", "c"], driver.Scheduler.Waiting.Select(r => r.Id));
        Assert.Equal(1, driver.Scheduler.GetStats().NumPreemptionsTotal);

        // b resumes by recomputing prompt + output as one prefill.
        int bOutputsAtPreemption = b.NumOutputTokens;
        SchedulerOutput? resumed = null;
        while (driver.Scheduler.HasUnfinishedRequests)
        {
            var (output, _) = driver.Step();
            SchedulerInvariants.Check(driver.Scheduler);
            foreach (ScheduledRequest s in output.ScheduledRequests)
                if (s.Request == b && resumed is null) resumed = output;
        }
        Assert.NotNull(resumed);
        ScheduledRequest bResume = resumed.ScheduledRequests.Single(s => s.Request == b);
        Assert.Equal(0, bResume.StartPosition);
        Assert.Equal(8 + bOutputsAtPreemption, bResume.NumNewTokens);
        Assert.True(bResume.WillSample);
        Assert.All([a, b, c], r => Assert.Equal(RequestStatus.FinishedLength, r.Status));
        Assert.Equal(12, a.NumOutputTokens);
        Assert.Equal(12, b.NumOutputTokens);
        Assert.Equal(2, c.NumOutputTokens);
        Assert.Equal(6, driver.Scheduler.KvCacheManager.NumFreeBlocks);
    }

    [Fact]
    public void YoungestRequestShortOfBlocksPreemptsItself()
    {
        // 4 usable blocks of 4: a (6 tokens) has room to decode into its second block, b (8 tokens) does not.
        var config = Config(numBlocks: 5, blockSize: 4) with { EnablePrefixCaching = false };
        var driver = new SchedulerDriver(config);
        Request a = MakeRequest("a", 6, maxTokens: 6, firstToken: 100);
        Request b = MakeRequest("b", 8, maxTokens: 4, firstToken: 200);
        driver.Scheduler.AddRequest(a);
        driver.Scheduler.AddRequest(b);
        driver.Step();
        Assert.Equal(0, driver.Scheduler.KvCacheManager.NumFreeBlocks);

        var (output, _) = driver.Step();
        Assert.Equal(["b"], output.PreemptedRequestIds);
        Assert.Equal(["a"], output.ScheduledRequests.Select(s => s.Request.Id));
        Assert.Equal(RequestStatus.Running, a.Status);

        driver.RunToCompletion();
        Assert.Equal(6, a.NumOutputTokens);
        Assert.Equal(4, b.NumOutputTokens);
        Assert.True(b.NumPreemptions >= 1);
    }

    [Fact]
    public void RequestThatCanNeverFitFinishesWithErrorInsteadOfHanging()
    {
        var driver = new SchedulerDriver(Config(numBlocks: 5, blockSize: 4, maxModelLen: 64));
        Request tooBig = MakeRequest("big", 10, maxTokens: 10);
        driver.Scheduler.AddRequest(tooBig);
        Assert.Equal(RequestStatus.FinishedError, tooBig.Status);
        Assert.Equal(FinishReason.Error, tooBig.FinishReason);
        Assert.Contains("max_tokens", tooBig.ErrorMessage);
        Assert.Contains("16 tokens", tooBig.ErrorMessage);

        Request tooLong = MakeRequest("long", 65, maxTokens: 1);
        driver.Scheduler.AddRequest(tooLong);
        Assert.Equal(RequestStatus.FinishedError, tooLong.Status);
        Assert.Contains("maximum model length of 64", tooLong.ErrorMessage);

        Request empty = MakeRequest("empty", 0, maxTokens: 1);
        driver.Scheduler.AddRequest(empty);
        Assert.Equal(RequestStatus.FinishedError, empty.Status);

        Assert.True(driver.Scheduler.HasUnfinishedRequests);
        var (output, changed) = driver.Step();
        Assert.True(output.IsEmpty);
        Assert.Equal([tooBig, tooLong, empty], changed);
        Assert.False(driver.Scheduler.HasUnfinishedRequests);
        Assert.Equal(0, driver.Scheduler.NumWaiting);
    }

    [Fact]
    public void MaxModelLenCapsTheNeedAndEndsWithLength()
    {
        // prompt 10 + max_tokens 100 would not fit, but max_model_len 16 caps it at 4 blocks.
        var driver = new SchedulerDriver(Config(numBlocks: 5, blockSize: 4, maxModelLen: 16));
        Request r = MakeRequest("r", 10, maxTokens: 100);
        driver.Scheduler.AddRequest(r);
        driver.RunToCompletion();
        Assert.Equal(RequestStatus.FinishedLength, r.Status);
        Assert.Equal(16, r.NumTokens);
    }

    [Fact]
    public void AbortWhileWaitingFreesEverything()
    {
        var driver = new SchedulerDriver(Config(numBlocks: 9, blockSize: 4, maxSeqs: 1));
        driver.Scheduler.AddRequest(MakeRequest("a", 8, 4));
        Request b = MakeRequest("b", 8, 4, firstToken: 500);
        driver.Scheduler.AddRequest(b);
        driver.Step();
        Assert.Equal(RequestStatus.Waiting, b.Status);

        Assert.True(driver.Scheduler.AbortRequest("b"));
        Assert.Equal(RequestStatus.FinishedAborted, b.Status);
        Assert.Equal(FinishReason.Abort, b.FinishReason);
        Assert.Equal(0, driver.Scheduler.NumWaiting);
        Assert.False(driver.Scheduler.AbortRequest("b"));
        var (output, _) = driver.Step();
        Assert.Contains("b", output.FinishedRequestIds);
        driver.RunToCompletion();
        Assert.Equal(8, driver.Scheduler.KvCacheManager.NumFreeBlocks);
    }

    [Fact]
    public void AbortDuringPrefillFreesEverythingEvenWithTheStepInFlight()
    {
        var driver = new SchedulerDriver(Config(numBlocks: 9, blockSize: 4, budget: 8));
        Request r = MakeRequest("r", 20, 4);
        driver.Scheduler.AddRequest(r);
        driver.Step();
        Assert.Equal(8, r.NumComputedTokens);

        SchedulerOutput output = driver.Scheduler.Schedule();
        Assert.True(driver.Scheduler.AbortRequest("r"));
        IReadOnlyList<Request> changed = driver.Scheduler.UpdateFromOutput(output, new Dictionary<string, int>());
        Assert.Empty(changed);
        Assert.Equal(8, r.NumComputedTokens);
        Assert.Equal(8, driver.Scheduler.KvCacheManager.NumFreeBlocks);
        Assert.Equal(["r"], driver.Scheduler.Schedule().FinishedRequestIds);
        SchedulerInvariants.Check(driver.Scheduler);
    }

    [Fact]
    public void AbortDuringDecodeFreesEverything()
    {
        var driver = new SchedulerDriver(Config(numBlocks: 9, blockSize: 4));
        Request r = MakeRequest("r", 6, 10);
        driver.Scheduler.AddRequest(r);
        driver.Step();
        driver.Step();
        Assert.Equal(2, r.NumOutputTokens);
        Assert.True(driver.Scheduler.AbortRequest("r"));
        Assert.Equal(0, driver.Scheduler.NumRunning);
        Assert.Equal(8, driver.Scheduler.KvCacheManager.NumFreeBlocks);
        Assert.False(driver.Scheduler.HasUnfinishedRequests);
        SchedulerInvariants.Check(driver.Scheduler);
    }

    [Fact]
    public void FinishRequestEndsARunningRequestForTheEngine()
    {
        var driver = new SchedulerDriver(Config(numBlocks: 9, blockSize: 4));
        Request r = MakeRequest("r", 6, 10);
        driver.Scheduler.AddRequest(r);
        driver.Step();
        Assert.True(driver.Scheduler.FinishRequest("r", FinishReason.Stop));
        Assert.Equal(RequestStatus.FinishedStopped, r.Status);
        Assert.Null(r.StopReasonTokenId);
        Assert.True(driver.Step().Output.IsEmpty);
        Assert.Equal(8, driver.Scheduler.KvCacheManager.NumFreeBlocks);
    }

    private static Request RunOne(SamplingParams sampling, int[] tokens, int? eos = 2)
    {
        var driver = new SchedulerDriver(Config(numBlocks: 64, blockSize: 4));
        Request r = MakeRequest("r", 5, 0, eos: eos, sampling: sampling);
        driver.Scheduler.AddRequest(r);
        int next = 0;
        driver.RunToCompletion(maxSteps: 100, sample: _ => tokens[next++]);
        return r;
    }

    [Fact]
    public void MaxTokensEndsWithLength()
    {
        Request r = RunOne(new SamplingParams { MaxTokens = 3 }, [5, 6, 7, 8]);
        Assert.Equal(RequestStatus.FinishedLength, r.Status);
        Assert.Equal(FinishReason.Length, r.FinishReason);
        Assert.Equal([5, 6, 7], r.OutputTokenIds);
    }

    [Fact]
    public void EosEndsWithStop()
    {
        Request r = RunOne(new SamplingParams { MaxTokens = 10 }, [5, 2, 7]);
        Assert.Equal(RequestStatus.FinishedStopped, r.Status);
        Assert.Equal([5, 2], r.OutputTokenIds);
        Assert.Null(r.StopReasonTokenId);
    }

    [Fact]
    public void IgnoreEosRunsToMaxTokens()
    {
        Request r = RunOne(new SamplingParams { MaxTokens = 4, IgnoreEos = true }, [2, 2, 2, 2, 2]);
        Assert.Equal(RequestStatus.FinishedLength, r.Status);
        Assert.Equal(4, r.NumOutputTokens);
    }

    [Fact]
    public void StopTokenIdEndsWithStopAndNamesTheToken()
    {
        Request r = RunOne(new SamplingParams { MaxTokens = 10, StopTokenIds = [9, 11] }, [5, 6, 11, 7]);
        Assert.Equal(RequestStatus.FinishedStopped, r.Status);
        Assert.Equal(11, r.StopReasonTokenId);
        Assert.Equal([5, 6, 11], r.OutputTokenIds);
    }

    [Fact]
    public void MinTokensSuppressesEosAndStopTokensUntilReached()
    {
        Request r = RunOne(new SamplingParams { MaxTokens = 10, MinTokens = 3, StopTokenIds = [9] }, [2, 9, 2, 5]);
        Assert.Equal(RequestStatus.FinishedStopped, r.Status);
        Assert.Equal([2, 9, 2], r.OutputTokenIds);

        Request s = RunOne(new SamplingParams { MaxTokens = 10, MinTokens = 2, StopTokenIds = [9] }, [9, 9, 5]);
        Assert.Equal(9, s.StopReasonTokenId);
        Assert.Equal(2, s.NumOutputTokens);
    }

    [Fact]
    public void NoEosTokenMeansNoEosCheck()
    {
        Request r = RunOne(new SamplingParams { MaxTokens = 2 }, [2, 2, 2], eos: null);
        Assert.Equal(RequestStatus.FinishedLength, r.Status);
    }

    [Fact]
    public void PrefixHitOnAdmissionIsCountedAndReported()
    {
        var driver = new SchedulerDriver(Config(numBlocks: 64, blockSize: 16));
        Request a = MakeRequest("a", 40, 1);
        driver.Scheduler.AddRequest(a);
        driver.RunToCompletion();
        Assert.Equal(0, a.NumCachedTokens);

        Request b = MakeRequest("b", 40, 1);
        driver.Scheduler.AddRequest(b);
        var (output, _) = driver.Step();
        ScheduledRequest s = Assert.Single(output.ScheduledRequests);
        Assert.Equal(32, s.StartPosition);
        Assert.Equal(8, s.NumNewTokens);
        Assert.Equal(32, b.NumCachedTokens);
        SchedulerStats stats = driver.Scheduler.GetStats();
        Assert.Equal(80, stats.PrefixCacheQueries);
        Assert.Equal(32, stats.PrefixCacheHits);
    }

    [Fact]
    public void ParallelSamplesShareThePromptBlocks()
    {
        var driver = new SchedulerDriver(Config(numBlocks: 64, blockSize: 16));
        Request[] samples = [.. Enumerable.Range(0, 3).Select(i => MakeRequest($"s{i}", 40, 4))];
        foreach (Request r in samples) driver.Scheduler.AddRequest(r);

        // The first sample computes the prompt; its siblings wait for those blocks to be cached.
        var (output, _) = driver.Step();
        Assert.Equal(["s0"], output.ScheduledRequests.Select(s => s.Request.Id));
        (output, _) = driver.Step();
        Assert.Equal(["s0", "s1", "s2"], output.ScheduledRequests.Select(s => s.Request.Id));
        Assert.Equal([32, 32], output.ScheduledRequests.Skip(1).Select(s => s.StartPosition));

        var tables = samples.Select(r => driver.Scheduler.KvCacheManager.GetBlockTable(r).Take(2).ToArray()).ToArray();
        Assert.Equal(tables[0], tables[1]);
        Assert.Equal(tables[0], tables[2]);
        Assert.Equal(64, driver.Scheduler.GetStats().PrefixCacheHits);
        driver.RunToCompletion();
        Assert.All(samples, r => Assert.Equal(4, r.NumOutputTokens));
    }

    [Fact]
    public void WithoutDeferralParallelSamplesEachComputeThePrompt()
    {
        var driver = new SchedulerDriver(Config(numBlocks: 64, blockSize: 16) with { DeferSharedPrefixes = false });
        foreach (int i in new[] { 0, 1 }) driver.Scheduler.AddRequest(MakeRequest($"s{i}", 40, 4));
        var (output, _) = driver.Step();
        Assert.Equal([0, 0], output.ScheduledRequests.Select(s => s.StartPosition));
        driver.RunToCompletion();
    }

    [Fact]
    public void DuplicateIdIsRejected()
    {
        var scheduler = new Scheduler(Config(numBlocks: 8));
        scheduler.AddRequest(MakeRequest("x", 3, 1));
        Assert.Throws<InferenceException>(() => scheduler.AddRequest(MakeRequest("x", 3, 1)));
    }

    [Fact]
    public void WaitingQueueLimitIsReported()
    {
        var scheduler = new Scheduler(Config(numBlocks: 8) with { MaxWaiting = 2 });
        scheduler.AddRequest(MakeRequest("a", 3, 1));
        Assert.False(scheduler.IsWaitingQueueFull);
        scheduler.AddRequest(MakeRequest("b", 3, 1));
        Assert.True(scheduler.IsWaitingQueueFull);
    }

    [Fact]
    public void InvalidConfigIsRejected()
    {
        Assert.Throws<InferenceException>(() => new Scheduler(Config(numBlocks: 1)));
        Assert.Throws<InferenceException>(() => new Scheduler(Config(numBlocks: 8, budget: 0)));
    }
}
