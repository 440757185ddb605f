using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Inference.Templating;

internal enum TokenKind { Text, VarBegin, VarEnd, BlockBegin, BlockEnd, Name, String, Integer, Float, Op, Eof }

internal readonly record struct Token(TokenKind Kind, string Value, int Line)
{
    public bool Is(TokenKind kind, string value) => Kind == kind && Value == value;

    public override string ToString() => Kind switch
    {
        TokenKind.Eof => "end of template",
        TokenKind.VarEnd or TokenKind.BlockEnd => $"end of statement '{Value}'",
        _ => $"'{Value}'",
    };
}

/// <summary>
/// Splits a template into text and tag tokens with jinja2's whitespace rules, configured as Hugging Face
/// configures them: trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False.
/// </summary>
internal sealed class Lexer
{
    private static readonly string[] s_ops = ["//", "**", "==", "!=", "<=", ">=", "+", "-", "*", "/", "%", "~", "<", ">", "=", "(", ")", "[", "]", "{", "}", ",", ".", ":", "|"];
    private static readonly Regex s_rawBegin = new(@"\G\s*raw\s*(-?)%\}", RegexOptions.CultureInvariant);
    private static readonly Regex s_rawEnd = new(@"\{%(-?)\s*endraw\s*(-?)%\}", RegexOptions.CultureInvariant);

    private readonly string _src;
    private readonly List<Token> _tokens = [];
    private readonly List<int> _lineStarts = [];
    private int _pos;
    // jinja2 only lstrips a block tag with no newline before it in its text if the previous tag ended the line.
    private bool _lineStarting = true;

    private Lexer(string source)
    {
        // jinja2 normalises every line ending to \n and drops one trailing newline before lexing.
        string s = source.Replace("\r\n", "\n").Replace('\r', '\n');
        _src = s.EndsWith('\n') ? s[..^1] : s;
    }

    public static List<Token> Tokenize(string source)
    {
        var lexer = new Lexer(source);
        lexer.Run();
        return lexer._tokens;
    }

    private int LineAt(int pos)
    {
        if (_lineStarts.Count == 0)
        {
            _lineStarts.Add(0);
            for (int i = 0; i < _src.Length; i++)
                if (_src[i] == '\n') _lineStarts.Add(i + 1);
        }
        int idx = _lineStarts.BinarySearch(pos);
        return idx >= 0 ? idx + 1 : ~idx;
    }

    private TemplateException Error(string message, int pos) => new(message, TemplateErrorKind.Syntax, LineAt(pos));

    private void Run()
    {
        while (_pos < _src.Length)
        {
            int start = FindTagStart(_pos);
            if (start < 0)
            {
                AddText(_src[_pos..], _pos);
                break;
            }
            char kind = _src[start + 1];
            char sign = start + 2 < _src.Length ? _src[start + 2] : '\0';
            string text = _src[_pos..start];
            if (sign == '-')
                text = text.TrimEnd();
            else if (sign != '+' && kind != '{')
                text = LStrip(text);
            AddText(text, _pos);

            _pos = start + 2 + (sign is '-' or '+' ? 1 : 0);
            if (kind == '#')
                SkipComment(start);
            else if (kind == '%' && s_rawBegin.Match(_src, _pos) is { Success: true } raw)
                LexRaw(raw);
            else
                LexTag(kind == '{', start);
        }
        _tokens.Add(new Token(TokenKind.Eof, "", LineAt(_src.Length)));
    }

    private int FindTagStart(int from)
    {
        for (int i = _src.IndexOf('{', from); i >= 0 && i + 1 < _src.Length; i = _src.IndexOf('{', i + 1))
            if (_src[i + 1] is '{' or '%' or '#')
                return i;
        return -1;
    }

    // lstrip_blocks: drop spaces and tabs between the start of the line and a block or comment tag.
    private string LStrip(string text)
    {
        int lineStart = text.LastIndexOf('\n') + 1;
        if (lineStart == 0 && !_lineStarting)
            return text;
        for (int i = lineStart; i < text.Length; i++)
            if (!char.IsWhiteSpace(text[i]))
                return text;
        return text[..lineStart];
    }

    private void AddText(string text, int pos)
    {
        if (text.Length > 0)
            _tokens.Add(new Token(TokenKind.Text, text, LineAt(pos)));
    }

    // After a tag: '-' strips all following whitespace; otherwise trim_blocks eats one newline after %} and #}.
    private void AfterTag(bool stripAll, bool trimNewline)
    {
        if (stripAll)
        {
            int begin = _pos;
            while (_pos < _src.Length && char.IsWhiteSpace(_src[_pos]))
                _pos++;
            _lineStarting = _pos > begin && _src[_pos - 1] == '\n';
        }
        else if (trimNewline && _pos < _src.Length && _src[_pos] == '\n')
        {
            _pos++;
            _lineStarting = true;
        }
        else
        {
            _lineStarting = false;
        }
    }

    private void SkipComment(int start)
    {
        int end = _src.IndexOf("#}", _pos, StringComparison.Ordinal);
        if (end < 0)
            throw Error("Missing end of comment tag", start);
        bool strip = end > _pos && _src[end - 1] == '-';
        _pos = end + 2;
        AfterTag(strip, trimNewline: true);
    }

    private void LexRaw(Match begin)
    {
        _pos = begin.Index + begin.Length;
        if (begin.Groups[1].Value == "-")
            while (_pos < _src.Length && char.IsWhiteSpace(_src[_pos])) _pos++;
        var end = s_rawEnd.Match(_src, _pos);
        if (!end.Success)
            throw Error("Missing end of raw directive", begin.Index);
        string body = _src[_pos..end.Index];
        AddText(end.Groups[1].Value == "-" ? body.TrimEnd() : body, _pos);
        _pos = end.Index + end.Length;
        AfterTag(end.Groups[2].Value == "-", trimNewline: true);
    }

    private void LexTag(bool isVariable, int start)
    {
        _tokens.Add(new Token(isVariable ? TokenKind.VarBegin : TokenKind.BlockBegin, isVariable ? "{{" : "{%", LineAt(start)));
        string close = isVariable ? "}}" : "%}";
        // Brackets are tracked so that "}}" closing a dict literal inside {{ ... }} does not end the tag.
        int depth = 0;
        while (true)
        {
            while (_pos < _src.Length && char.IsWhiteSpace(_src[_pos]))
                _pos++;
            if (_pos >= _src.Length)
                throw Error($"Unexpected end of template; missing '{close}'", start);
            if (depth == 0)
            {
                char c0 = _src[_pos];
                bool signed = (c0 == '-' || (c0 == '+' && !isVariable)) && At(_pos + 1, close);
                if (signed || At(_pos, close))
                {
                    int line = LineAt(_pos);
                    _pos += close.Length + (signed ? 1 : 0);
                    _tokens.Add(new Token(isVariable ? TokenKind.VarEnd : TokenKind.BlockEnd, close, line));
                    AfterTag(signed && c0 == '-', trimNewline: !isVariable && !(signed && c0 == '+'));
                    return;
                }
            }
            char c = _src[_pos];
            int tokenLine = LineAt(_pos);
            if (char.IsLetter(c) || c == '_')
            {
                int s = _pos;
                while (_pos < _src.Length && (char.IsLetterOrDigit(_src[_pos]) || _src[_pos] == '_')) _pos++;
                _tokens.Add(new Token(TokenKind.Name, _src[s.._pos], tokenLine));
            }
            else if (char.IsAsciiDigit(c))
            {
                LexNumber(tokenLine);
            }
            else if (c is '\'' or '"')
            {
                _tokens.Add(new Token(TokenKind.String, LexString(c), tokenLine));
            }
            else
            {
                string? op = s_ops.FirstOrDefault(o => At(_pos, o)) ?? throw Error($"Unexpected character '{c}'", _pos);
                if (op is "(" or "[" or "{") depth++;
                else if (op is ")" or "]" or "}")
                {
                    if (depth == 0) throw Error($"Unexpected '{op}'", _pos);
                    depth--;
                }
                _pos += op.Length;
                _tokens.Add(new Token(TokenKind.Op, op, tokenLine));
            }
        }
    }

    private bool At(int pos, string s) => string.CompareOrdinal(_src, pos, s, 0, s.Length) == 0;

    private void LexNumber(int line)
    {
        int s = _pos;
        void Digits() { while (_pos < _src.Length && (char.IsAsciiDigit(_src[_pos]) || _src[_pos] == '_')) _pos++; }
        Digits();
        bool isFloat = false;
        if (_pos + 1 < _src.Length && _src[_pos] == '.' && char.IsAsciiDigit(_src[_pos + 1]))
        {
            isFloat = true;
            _pos++;
            Digits();
        }
        if (_pos < _src.Length && _src[_pos] is 'e' or 'E')
        {
            int save = _pos++;
            if (_pos < _src.Length && _src[_pos] is '+' or '-') _pos++;
            if (_pos < _src.Length && char.IsAsciiDigit(_src[_pos])) { Digits(); isFloat = true; }
            else _pos = save;
        }
        _tokens.Add(new Token(isFloat ? TokenKind.Float : TokenKind.Integer, _src[s.._pos].Replace("_", ""), line));
    }

    // Python string literal escapes, as jinja2 decodes them with "unicode-escape".
    private string LexString(char quote)
    {
        int start = _pos++;
        var sb = new StringBuilder();
        while (true)
        {
            if (_pos >= _src.Length)
                throw Error("Unterminated string literal", start);
            char c = _src[_pos++];
            if (c == quote)
                return sb.ToString();
            if (c != '\\' || _pos >= _src.Length)
            {
                sb.Append(c);
                continue;
            }
            char e = _src[_pos++];
            switch (e)
            {
                case 'n': sb.Append('\n'); break;
                case 't': sb.Append('\t'); break;
                case 'r': sb.Append('\r'); break;
                case 'b': sb.Append('\b'); break;
                case 'f': sb.Append('\f'); break;
                case 'v': sb.Append('\v'); break;
                case 'a': sb.Append('\a'); break;
                case '0' when _pos >= _src.Length || !char.IsAsciiDigit(_src[_pos]): sb.Append('\0'); break;
                case '\\' or '\'' or '"': sb.Append(e); break;
                case '\n': break;
                case 'x': sb.Append(HexEscape(2)); break;
                case 'u': sb.Append(HexEscape(4)); break;
                case 'U': sb.Append(HexEscape(8)); break;
                default: sb.Append('\\').Append(e); break;
            }
        }
    }

    private string HexEscape(int digits)
    {
        if (_pos + digits > _src.Length || !int.TryParse(_src.AsSpan(_pos, digits), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out int code))
            throw Error("Invalid escape in string literal", _pos);
        _pos += digits;
        return char.ConvertFromUtf32(code);
    }
}
