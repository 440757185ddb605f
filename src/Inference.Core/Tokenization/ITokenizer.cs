namespace Inference.Tokenization;

/// <summary>Tokenizer loaded from a Hugging Face model folder.</summary>
public interface ITokenizer
{
    /// <summary>Number of distinct tokens, added tokens included (len(tokenizer) in transformers).</summary>
    int VocabSize { get; }

    int? BosTokenId { get; }

    /// <summary>tokenizer_config eos_token followed by generation_config eos_token_id, without duplicates.</summary>
    IReadOnlyList<int> EosTokenIds { get; }

    string? BosToken { get; }

    string? EosToken { get; }

    bool AddBosToken { get; }

    /// <summary>The Jinja chat template of tokenizer_config.json (the "default" one when several are named).</summary>
    string? ChatTemplate { get; }

    /// <summary>Encodes like HF's tokenizer(text); <paramref name="addSpecialTokens"/> applies the post-processor (BOS).</summary>
    int[] Encode(string text, bool addSpecialTokens = true);

    /// <summary>Decodes like HF's tokenizer.decode (no clean_up_tokenization_spaces).</summary>
    string Decode(ReadOnlySpan<int> ids, bool skipSpecialTokens = true);

    string? IdToToken(int id);

    int? TokenToId(string token);

    /// <summary>True for added tokens flagged special (the ones skipSpecialTokens removes).</summary>
    bool IsSpecial(int id);
}
