using Inference.Engine;
using Inference.Sampling;
using Inference.Scheduling;
using Inference.Tokenization;

namespace Inference.Tests.Engine;

/// <summary>Streamed text, stop strings, stop tokens, EOS, length limits and requests that can never fit.</summary>
public sealed class StreamingTests
{
    private static readonly ReferenceCase Case = ReferenceCase.Load(RepoPaths.Stories260K)[0]; // "Once upon a time"
    private static ITokenizer Tok => Stories.Model.Tokenizer;

    /// <summary>decode(prompt + tokens) minus decode(prompt), which must extend decode(prompt).</summary>
    internal static string DecodedAfterPrompt(ITokenizer tok, int[] prompt, IEnumerable<int> tokens)
    {
        string before = tok.Decode(prompt);
        string all = tok.Decode(prompt.Concat(tokens).ToArray());
        Assert.StartsWith(before, all);
        return all[before.Length..];
    }

    /// <summary>
    /// Streamed deltas concatenate to decode(prompt + completion) minus decode(prompt). A stop token or EOS
    /// contributes no text; a stop string cuts the text right before it.
    /// </summary>
    internal static void AssertDeltasMatchDecode(ITokenizer tok, Completion c)
    {
        var tokens = c.TokenIds.AsEnumerable();
        if (c.FinishReason == FinishReason.Stop && c.StopReason is not string)
            tokens = c.TokenIds.Take(c.TokenIds.Count - 1);
        string expected = DecodedAfterPrompt(tok, c.PromptTokenIds, tokens);
        if (c.StopReason is string stop)
            expected = expected[..expected.IndexOf(stop, StringComparison.Ordinal)];
        Assert.True(expected == c.Text, $"{c}: streamed text\n  {c.Text}\ndiffers from the decoded tokens\n  {expected}");
    }

    /// <summary>Char offsets (in the completion text) where each generated token's text ends.</summary>
    private static List<int> TokenEnds(int[] prompt, int[] generated)
    {
        var ends = new List<int>();
        for (int k = 1; k <= generated.Length; k++)
            ends.Add(DecodedAfterPrompt(Tok, prompt, generated.Take(k)).Length);
        return ends;
    }

    [Theory]
    [InlineData("little girl")]   // starts inside "▁little" (after its space)
    [InlineData("Lily. She")]     // three tokens
    [InlineData("ittle gi")]      // starts and ends inside tokens ("▁little", "ir")
    public async Task StopStringSpanningTokensCutsTheTextBeforeIt(string stop)
    {
        string full = DecodedAfterPrompt(Tok, Case.PromptTokenIds, Case.GeneratedTokenIds);
        int at = full.IndexOf(stop, StringComparison.Ordinal);
        Assert.True(at > 0, $"'{stop}' is not in the reference completion");
        var ends = TokenEnds(Case.PromptTokenIds, Case.GeneratedTokenIds);
        Assert.Contains(ends, e => e > at && e < at + stop.Length); // a token boundary falls inside the stop string
        int k = ends.FindIndex(e => e >= at + stop.Length) + 1;     // tokens needed to complete it

        using var e = new TestEngine(new EngineOptions());
        var c = (await e.RunAsync("stop", Case.PromptTokenIds, SamplingParams.Greedy(60) with { Stop = ["no such text", stop] }))[0];

        Assert.Equal(full[..at], c.Text);
        Assert.All(c.Deltas, d => Assert.DoesNotContain(stop, d));
        Assert.DoesNotContain(stop, c.Text);
        Assert.Equal(FinishReason.Stop, c.FinishReason);
        Assert.Equal(stop, c.StopReason);
        Assert.Equal(Case.GeneratedTokenIds.Take(k), c.TokenIds);
        Assert.Equal(k, c.Final!.CompletionTokens);
        AssertDeltasMatchDecode(Tok, c);
        e.WaitForAllBlocksFree();
    }

    [Fact]
    public async Task StopStringCompletedByTheLastAllowedTokenIsStopNotLength()
    {
        const string stop = "little girl";
        string full = DecodedAfterPrompt(Tok, Case.PromptTokenIds, Case.GeneratedTokenIds);
        int at = full.IndexOf(stop, StringComparison.Ordinal);
        int k = TokenEnds(Case.PromptTokenIds, Case.GeneratedTokenIds).FindIndex(x => x >= at + stop.Length) + 1;

        using var e = new TestEngine(new EngineOptions());
        var c = (await e.RunAsync("stop-at-max", Case.PromptTokenIds, SamplingParams.Greedy(k) with { Stop = [stop] }))[0];
        Assert.Equal(k, c.TokenIds.Count);
        Assert.Equal(FinishReason.Stop, c.FinishReason);
        Assert.Equal(stop, c.StopReason);
        Assert.Equal(full[..at], c.Text);
    }

    [Fact]
    public async Task MaxTokensFinishesWithLengthAndExactText()
    {
        using var e = new TestEngine(new EngineOptions());
        var c = (await e.RunAsync("len", Case.PromptTokenIds, SamplingParams.Greedy(Case.MaxTokens)))[0];
        Assert.Equal(Case.GeneratedTokenIds, c.TokenIds);
        Assert.Equal(FinishReason.Length, c.FinishReason);
        Assert.Null(c.StopReason);
        Assert.Equal(Case.PromptTokenIds.Length, c.Final!.PromptTokens);
        Assert.Equal(Case.MaxTokens, c.Final.CompletionTokens);
        Assert.Equal(DecodedAfterPrompt(Tok, Case.PromptTokenIds, Case.GeneratedTokenIds), c.Text);
        Assert.True(c.Deltas.Count > 1, "text should stream in several deltas");
    }

    [Fact]
    public async Task StopTokenIdFinishesWithStopAndTheTokenAsReason()
    {
        int newline = Tok.Encode("\n", addSpecialTokens: false).Last();
        int k = Array.IndexOf(Case.GeneratedTokenIds, newline) + 1;
        Assert.True(k > 1, "the reference completion should contain a newline token");

        using var e = new TestEngine(new EngineOptions());
        var c = (await e.RunAsync("stop-id", Case.PromptTokenIds, SamplingParams.Greedy(60) with { StopTokenIds = [newline] }))[0];
        Assert.Equal(Case.GeneratedTokenIds.Take(k), c.TokenIds);
        Assert.Equal(FinishReason.Stop, c.FinishReason);
        Assert.Equal(newline, c.StopReason);
        // As in vLLM, the token that stopped the sequence is in token_ids but not in the text.
        Assert.Equal(DecodedAfterPrompt(Tok, Case.PromptTokenIds, Case.GeneratedTokenIds.Take(k - 1)), c.Text);
        Assert.False(c.Text.EndsWith('\n'));
    }

    [Fact]
    public async Task EosFinishesWithStopUnlessIgnored()
    {
        int eos = Stories.Model.EosTokenIds[0];
        Assert.Equal(2, eos);
        // stories260K rarely ends a story within a short run; a logit bias makes EOS the greedy choice.
        var bias = new Dictionary<int, float> { [eos] = 100f };
        using var e = new TestEngine(new EngineOptions());

        var stopped = (await e.RunAsync("eos", Case.PromptTokenIds, SamplingParams.Greedy(10) with { LogitBias = bias }))[0];
        Assert.Equal([eos], stopped.TokenIds);
        Assert.Equal(FinishReason.Stop, stopped.FinishReason);
        Assert.Null(stopped.StopReason);
        Assert.Equal("", stopped.Text);

        var ignored = (await e.RunAsync("ignore", Case.PromptTokenIds, SamplingParams.Greedy(10) with { LogitBias = bias, IgnoreEos = true }))[0];
        Assert.Equal(10, ignored.TokenIds.Count);
        Assert.Equal(eos, ignored.TokenIds[0]);
        Assert.Equal(FinishReason.Length, ignored.FinishReason);

        // min_tokens: EOS cannot be drawn before 4 tokens are out (as in vLLM), then it stops the sequence.
        var min = (await e.RunAsync("min", Case.PromptTokenIds, SamplingParams.Greedy(10) with { LogitBias = bias, MinTokens = 4 }))[0];
        Assert.Equal(FinishReason.Stop, min.FinishReason);
        Assert.Equal(5, min.TokenIds.Count);
        Assert.DoesNotContain(eos, min.TokenIds.Take(4));
        Assert.Equal(eos, min.TokenIds[4]);
        e.WaitForAllBlocksFree();
    }

    [Fact]
    public async Task RequestThatCanNeverFitGetsAnErrorAndOthersStillRun()
    {
        // 4 blocks of 16: 3 usable, 48 tokens of KV in all.
        using var e = new TestEngine(new EngineOptions { KvCacheMemory = Stories.KvBytesForBlocks(4, 16) });
        Assert.Equal(4, e.Engine.NumBlocks);
        var rng = new Random(3);
        // Alone in the engine, so no step ever runs a batch: the refusal must still be reported.
        var bad = (await e.RunAsync("too-big", Stories.RandomPrompt(rng, 30), SamplingParams.Greedy(100)))[0];
        Assert.Equal(FinishReason.Error, bad.FinishReason);
        Assert.NotNull(bad.Final!.Error);
        Assert.Contains("KV cache", bad.Final.Error);
        Assert.Empty(bad.TokenIds);

        // Next to a running request as well.
        var fits = e.RunAsync("fits", Stories.RandomPrompt(rng, 30), SamplingParams.Greedy(18));
        var bad2 = (await e.RunAsync("too-big-2", Stories.RandomPrompt(rng, 40), SamplingParams.Greedy(30)))[0];
        Assert.Equal(FinishReason.Error, bad2.FinishReason);
        var good = (await fits)[0];
        Assert.Equal(FinishReason.Length, good.FinishReason);
        Assert.Equal(18, good.TokenIds.Count);
        e.WaitForAllBlocksFree();

        var tooLong = Assert.Throws<InferenceException>(() => e.Add("too-long", Stories.RandomPrompt(rng, 600), SamplingParams.Greedy(1)));
        Assert.Contains("context", tooLong.Message);
    }

    [Fact]
    public async Task DuplicateRequestIdIsRefusedWithoutDisturbingTheFirst()
    {
        using var e = new TestEngine(new EngineOptions());
        var first = e.RunAsync("dup", Case.PromptTokenIds, SamplingParams.Greedy(Case.MaxTokens));
        var second = (await e.RunAsync("dup", Case.PromptTokenIds, SamplingParams.Greedy(5)))[0];
        Assert.Equal(FinishReason.Error, second.FinishReason);
        Assert.Contains("already in use", second.Final!.Error);
        var c = (await first)[0];
        Assert.Equal(FinishReason.Length, c.FinishReason);
        Assert.Equal(Case.GeneratedTokenIds, c.TokenIds);
        e.WaitForAllBlocksFree();
    }

    [Fact]
    public async Task DeltasConcatenateToTheDecodedCompletion()
    {
        var rng = new Random(11);
        using var e = new TestEngine(new EngineOptions { MaxNumBatchedTokens = 64 });
        var requests = new List<(string, int[], SamplingParams)>();
        for (int i = 0; i < 16; i++)
        {
            int[] prompt = i % 2 == 0 ? Tok.Encode(Case.Prompt) : Stories.RandomPrompt(rng, rng.Next(1, 120));
            requests.Add(($"d{i}", prompt, new SamplingParams { Temperature = 1.3f, Seed = (ulong)i, MaxTokens = rng.Next(1, 60) }));
        }
        var all = await e.RunConcurrentlyAsync(requests);
        foreach (var c in all)
        {
            AssertDeltasMatchDecode(Tok, c);
            Assert.Equal(c.TokenIds.Count, c.Final!.CompletionTokens);
        }
        // High temperature over 16 requests reaches byte-fallback tokens and their partial characters.
        Assert.Contains(all, c => c.TokenIds.Any(t => t is >= 3 and < Stories.FirstPieceId));
        e.WaitForAllBlocksFree();
    }
}
