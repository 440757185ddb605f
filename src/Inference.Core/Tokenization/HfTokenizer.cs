namespace Inference.Tokenization;

/// <summary>An <see cref="ITokenizer"/> backed by Hugging Face's Rust tokenizers, with the vocabulary read in managed code.</summary>
internal sealed class HfTokenizer : ITokenizer
{
    private readonly NativeTokenizer _withSpecials;
    private readonly NativeTokenizer _plain;
    private readonly string?[] _idToToken;
    private readonly bool[] _special;
    private readonly Dictionary<string, int> _tokenToId;

    public int VocabSize { get; }
    public int? BosTokenId { get; }
    public IReadOnlyList<int> EosTokenIds { get; }
    public string? BosToken { get; }
    public string? EosToken { get; }
    public bool AddBosToken { get; }
    public string? ChatTemplate { get; }

    public HfTokenizer(TokenizerJson json, TokenizerConfig config, IReadOnlyList<int> generationEosIds)
    {
        // Added tokens win over the model vocabulary in both directions, as in HF.
        _tokenToId = new Dictionary<string, int>(json.Vocab, StringComparer.Ordinal);
        foreach (var added in json.AddedTokens)
            _tokenToId[added.Content] = added.Id;
        VocabSize = _tokenToId.Count;

        int maxId = _tokenToId.Count == 0 ? -1 : _tokenToId.Values.Max();
        _idToToken = new string?[maxId + 1];
        _special = new bool[maxId + 1];
        foreach (var (token, id) in json.Vocab)
            _idToToken[id] = token;
        foreach (var added in json.AddedTokens)
        {
            _idToToken[added.Id] = added.Content;
            _special[added.Id] = added.Special;
        }

        var postProcessor = config.RebuildsPostProcessor ? config.BuildPostProcessor(TokenToId) : null;
        _withSpecials = NativeTokenizer.Load(postProcessor is null ? json.Root : json.WithPostProcessor(postProcessor), json.FilePath);
        _plain = NativeTokenizer.Load(json.WithoutSpecialsOrPostProcessor(), json.FilePath);

        BosToken = config.BosToken;
        EosToken = config.EosToken;
        BosTokenId = BosToken is null ? null : TokenToId(BosToken);
        EosTokenIds = (EosToken is not null && TokenToId(EosToken) is int eos ? new[] { eos } : [])
            .Concat(generationEosIds).Distinct().ToArray();
        ChatTemplate = config.ChatTemplate;
        AddBosToken = config.AddBosToken
            ?? (BosTokenId is int bos && _withSpecials.Encode("a") is [var first, ..] && first == bos);
    }

    public int[] Encode(string text, bool addSpecialTokens = true)
    {
        ArgumentNullException.ThrowIfNull(text);
        return addSpecialTokens ? _withSpecials.Encode(text) : _plain.Encode(text);
    }

    public string Decode(ReadOnlySpan<int> ids, bool skipSpecialTokens = true)
    {
        var kept = new List<uint>(ids.Length);
        foreach (int id in ids)
        {
            // HF drops ids it has no token for, and (when asked) the special ones, before running the decoder.
            if (IdToToken(id) is not null && !(skipSpecialTokens && _special[id]))
                kept.Add((uint)id);
        }
        return _plain.Decode(kept.ToArray());
    }

    public string? IdToToken(int id) => (uint)id < (uint)_idToToken.Length ? _idToToken[id] : null;

    public int? TokenToId(string token) => _tokenToId.TryGetValue(token, out int id) ? id : null;

    public bool IsSpecial(int id) => (uint)id < (uint)_special.Length && _special[id];
}
