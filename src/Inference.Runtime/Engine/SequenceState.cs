using System.Diagnostics;
using System.Text;
using System.Threading.Channels;
using Inference.Execution;
using Inference.Scheduling;
using Inference.Tokenization;

namespace Inference.Engine;

/// <summary>
/// The engine's side of one sequence: its sampler generator, incremental detokenizer, stop-string
/// search and timings. Touched only by the engine thread.
/// </summary>
internal sealed class SequenceState
{
    private readonly StringBuilder _text = new();
    private readonly int _holdBack;
    private int _emitted;
    private long _lastTokenTicks;

    public Request Request { get; }
    public int Index { get; }
    public RequestGroup Group { get; }
    public SeededRandom Random { get; }
    public IncrementalDetokenizer Detokenizer { get; }
    public List<TokenLogprobs>? PendingLogprobs { get; set; }
    public long FirstScheduledTicks { get; set; }
    public long FirstTokenTicks { get; private set; }
    public double InterTokenSum { get; private set; }
    public object? StopReason { get; private set; }
    public bool Done { get; set; }
    /// <summary>Output tokens already sent in a RequestOutput.</summary>
    public int EmittedTokens { get; set; }

    public SequenceState(Request request, int index, RequestGroup group, ulong seed, ITokenizer tokenizer)
    {
        Request = request;
        Index = index;
        Group = group;
        Random = new SeededRandom(seed);
        Detokenizer = new IncrementalDetokenizer(tokenizer, request.PromptTokenIds, request.SamplingParams.SkipSpecialTokens);
        int longest = 0;
        foreach (var s in request.SamplingParams.Stop) longest = Math.Max(longest, s.Length);
        // A stop string may be completed by a later token: hold back its length - 1 chars until sure.
        _holdBack = Math.Max(0, longest - 1);
    }

    /// <summary>Records a token's arrival time; returns the gap since the previous token (or -1 for the first).</summary>
    public double MarkToken(long now)
    {
        double gap = -1;
        if (FirstTokenTicks == 0) FirstTokenTicks = now;
        else
        {
            gap = (now - _lastTokenTicks) / (double)Stopwatch.Frequency;
            InterTokenSum += gap;
        }
        _lastTokenTicks = now;
        return gap;
    }

    /// <summary>Appends a token's text; returns the stop string it completed, if any (the text is cut before it).</summary>
    public string? AppendToken(int token)
    {
        int before = _text.Length;
        _text.Append(Detokenizer.Add(token));
        foreach (var stop in Request.SamplingParams.Stop)
        {
            int from = Math.Max(0, before - stop.Length + 1);
            int at = IndexOf(_text, stop, from);
            if (at >= 0)
            {
                _text.Length = at;
                StopReason = stop;
                return stop;
            }
        }
        return null;
    }

    public void SetStopTokenReason(int tokenId) => StopReason = tokenId;

    /// <summary>Text not yet sent; while running, the possible start of a stop string is kept back.</summary>
    public string TakeDelta(bool finished)
    {
        if (finished && StopReason is not string)
            _text.Append(Detokenizer.Flush());
        int safe = finished ? _text.Length : Math.Max(_emitted, _text.Length - _holdBack);
        if (safe < _emitted) safe = _emitted;
        string delta = _text.ToString(_emitted, safe - _emitted);
        _emitted = safe;
        return delta;
    }

    private static int IndexOf(StringBuilder sb, string value, int from)
    {
        for (int i = from; i + value.Length <= sb.Length; i++)
        {
            int j = 0;
            while (j < value.Length && sb[i + j] == value[j]) j++;
            if (j == value.Length) return i;
        }
        return -1;
    }
}

/// <summary>The n sequences of one request and the channel their outputs go to.</summary>
internal sealed class RequestGroup(string id, ChannelWriter<RequestOutput> writer, int n)
{
    public string Id { get; } = id;
    public ChannelWriter<RequestOutput> Writer { get; } = writer;
    public List<SequenceState> Sequences { get; } = new(n);
    public int Remaining { get; set; } = n;
    public CancellationTokenRegistration Registration { get; set; }
    public CancellationToken Cancellation { get; init; }
}
