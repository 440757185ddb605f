using System.Globalization;

namespace Inference.Templating;

/// <summary>Recursive-descent parser from tokens to the AST, following jinja2's grammar and operator precedence.</summary>
internal sealed class Parser
{
    private readonly List<Token> _tokens;
    private int _pos;
    private int _loopDepth;

    private Parser(List<Token> tokens) => _tokens = tokens;

    public static IReadOnlyList<Node> Parse(string source)
    {
        var parser = new Parser(Lexer.Tokenize(source));
        return parser.ParseBody([], out _, "template");
    }

    private Token Current => _tokens[_pos];

    private Token Peek(int ahead = 1) => _tokens[Math.Min(_pos + ahead, _tokens.Count - 1)];

    private Token Next() => _tokens[_pos < _tokens.Count - 1 ? _pos++ : _pos];

    private static TemplateException Error(string message, Token at) => new(message, TemplateErrorKind.Syntax, at.Line);

    private bool IsOp(string op) => Current.Is(TokenKind.Op, op);

    private bool IsName(string name) => Current.Is(TokenKind.Name, name);

    private bool SkipOp(string op)
    {
        if (!IsOp(op)) return false;
        _pos++;
        return true;
    }

    private bool SkipName(string name)
    {
        if (!IsName(name)) return false;
        _pos++;
        return true;
    }

    private void ExpectOp(string op)
    {
        if (!SkipOp(op)) throw Error($"expected '{op}', got {Current}", Current);
    }

    private string ExpectName()
    {
        if (Current.Kind != TokenKind.Name) throw Error($"expected a name, got {Current}", Current);
        return Next().Value;
    }

    private void ExpectBlockEnd()
    {
        if (Current.Kind != TokenKind.BlockEnd) throw Error($"expected end of statement '%}}', got {Current}", Current);
        _pos++;
    }

    // Parses nodes until one of endTags; the stream is left just after the end tag's name.
    private List<Node> ParseBody(string[] endTags, out string endTag, string opener)
    {
        var nodes = new List<Node>();
        while (true)
        {
            var tok = Next();
            switch (tok.Kind)
            {
                case TokenKind.Eof when endTags.Length == 0:
                    endTag = "";
                    return nodes;
                case TokenKind.Eof:
                    throw Error($"Unexpected end of template. Jinja was looking for the following tags: {string.Join(" or ", endTags.Select(t => $"'{t}'"))}. The innermost block that needs to be closed is '{opener}'.", tok);
                case TokenKind.Text:
                    nodes.Add(new TextNode(tok.Value, tok.Line));
                    break;
                case TokenKind.VarBegin:
                    nodes.Add(new OutputNode(ParseTuple(), tok.Line));
                    if (Next().Kind != TokenKind.VarEnd) throw Error($"expected end of print statement '}}}}', got {_tokens[_pos - 1]}", _tokens[_pos - 1]);
                    break;
                case TokenKind.BlockBegin:
                    var name = Current;
                    if (name.Kind != TokenKind.Name) throw Error($"tag name expected, got {name}", name);
                    _pos++;
                    if (endTags.Contains(name.Value))
                    {
                        endTag = name.Value;
                        return nodes;
                    }
                    nodes.Add(ParseStatement(name));
                    break;
                default:
                    throw Error($"unexpected {tok}", tok);
            }
        }
    }

    private Node ParseStatement(Token tag)
    {
        switch (tag.Value)
        {
            case "if": return ParseIf(tag);
            case "for": return ParseFor(tag);
            case "set": return ParseSet(tag);
            case "macro": return ParseMacro(tag);
            case "generation":
                ExpectBlockEnd();
                var body = ParseBody(["endgeneration"], out _, "generation");
                ExpectBlockEnd();
                return new BlockNode(body, tag.Line);
            case "break" or "continue":
                if (_loopDepth == 0) throw Error($"'{tag.Value}' outside of a loop", tag);
                ExpectBlockEnd();
                return tag.Value == "break" ? new BreakNode(tag.Line) : new ContinueNode(tag.Line);
            default:
                throw Error($"Encountered unknown tag '{tag.Value}'.", tag);
        }
    }

    private IfNode ParseIf(Token tag)
    {
        var branches = new List<(Expr, IReadOnlyList<Node>)>();
        List<Node>? elseBody = null;
        var test = ParseTuple(allowCondExpr: false);
        while (true)
        {
            ExpectBlockEnd();
            var body = ParseBody(["elif", "else", "endif"], out string end, "if");
            branches.Add((test, body));
            if (end == "elif")
            {
                test = ParseTuple(allowCondExpr: false);
                continue;
            }
            if (end == "else")
            {
                ExpectBlockEnd();
                elseBody = ParseBody(["endif"], out _, "if");
            }
            ExpectBlockEnd();
            return new IfNode(branches, elseBody, tag.Line);
        }
    }

    private ForNode ParseFor(Token tag)
    {
        var targets = new List<string>();
        bool paren = SkipOp("(");
        do targets.Add(ExpectName()); while (SkipOp(",") && Current.Kind == TokenKind.Name);
        if (paren) ExpectOp(")");
        if (!SkipName("in")) throw Error($"expected 'in', got {Current}", Current);
        // The iterable is parsed without conditional expressions: a trailing "if" filters the loop.
        var iterable = ParseTuple(allowCondExpr: false);
        var filter = SkipName("if") ? ParseExpression() : null;
        if (IsName("recursive")) throw Error("recursive loops are not supported", Current);
        ExpectBlockEnd();
        _loopDepth++;
        var body = ParseBody(["endfor", "else"], out string end, "for");
        _loopDepth--;
        List<Node>? elseBody = null;
        if (end == "else")
        {
            ExpectBlockEnd();
            elseBody = ParseBody(["endfor"], out _, "for");
        }
        ExpectBlockEnd();
        return new ForNode(targets, iterable, filter, body, elseBody, tag.Line);
    }

    private SetNode ParseSet(Token tag)
    {
        Expr target;
        var first = Current;
        string name = ExpectName();
        if (SkipOp("."))
        {
            target = new AttrExpr(new NameExpr(name, first.Line), ExpectName(), first.Line);
        }
        else if (IsOp(","))
        {
            var names = new List<Expr> { new NameExpr(name, first.Line) };
            while (SkipOp(",")) names.Add(new NameExpr(ExpectName(), first.Line));
            target = new ListExpr(names, IsTuple: true, first.Line);
        }
        else
        {
            target = new NameExpr(name, first.Line);
        }
        if (SkipOp("="))
        {
            var value = ParseTuple();
            ExpectBlockEnd();
            return new SetNode(target, value, null, tag.Line);
        }
        if (target is not NameExpr) throw Error("block set needs a single name", first);
        ExpectBlockEnd();
        var body = ParseBody(["endset"], out _, "set");
        ExpectBlockEnd();
        return new SetNode(target, null, body, tag.Line);
    }

    private MacroNode ParseMacro(Token tag)
    {
        string name = ExpectName();
        var parameters = new List<(string, Expr?)>();
        ExpectOp("(");
        while (!SkipOp(")"))
        {
            if (parameters.Count > 0) ExpectOp(",");
            if (SkipOp(")")) break;
            string p = ExpectName();
            parameters.Add((p, SkipOp("=") ? ParseExpression() : null));
        }
        ExpectBlockEnd();
        int savedDepth = _loopDepth;
        _loopDepth = 0;
        var body = ParseBody(["endmacro"], out _, "macro");
        _loopDepth = savedDepth;
        ExpectBlockEnd();
        return new MacroNode(name, parameters, body, tag.Line);
    }

    // ---- expressions, lowest precedence first ----

    private bool AtTupleEnd => Current.Kind is TokenKind.VarEnd or TokenKind.BlockEnd or TokenKind.Eof || IsOp(")") || IsName("if");

    private Expr ParseTuple(bool allowCondExpr = true)
    {
        int line = Current.Line;
        var first = allowCondExpr ? ParseExpression() : ParseOr();
        if (!IsOp(",")) return first;
        var items = new List<Expr> { first };
        while (SkipOp(",") && !AtTupleEnd)
            items.Add(allowCondExpr ? ParseExpression() : ParseOr());
        return new ListExpr(items, IsTuple: true, line);
    }

    private Expr ParseExpression()
    {
        var expr = ParseOr();
        while (IsName("if"))
        {
            int line = Next().Line;
            var test = ParseOr();
            var otherwise = SkipName("else") ? ParseExpression() : null;
            expr = new CondExpr(test, expr, otherwise, line);
        }
        return expr;
    }

    private Expr ParseOr()
    {
        var left = ParseAnd();
        while (IsName("or"))
        {
            int line = Next().Line;
            left = new BinaryExpr("or", left, ParseAnd(), line);
        }
        return left;
    }

    private Expr ParseAnd()
    {
        var left = ParseNot();
        while (IsName("and"))
        {
            int line = Next().Line;
            left = new BinaryExpr("and", left, ParseNot(), line);
        }
        return left;
    }

    private Expr ParseNot()
    {
        if (!IsName("not")) return ParseCompare();
        int line = Next().Line;
        return new UnaryExpr("not", ParseNot(), line);
    }

    private static readonly string[] s_compareOps = ["==", "!=", "<", "<=", ">", ">="];

    private Expr ParseCompare()
    {
        int line = Current.Line;
        var first = ParseMath1();
        var rest = new List<(string, Expr)>();
        while (true)
        {
            if (Current.Kind == TokenKind.Op && s_compareOps.Contains(Current.Value))
                rest.Add((Next().Value, ParseMath1()));
            else if (SkipName("in"))
                rest.Add(("in", ParseMath1()));
            else if (IsName("not") && Peek().Is(TokenKind.Name, "in"))
            {
                _pos += 2;
                rest.Add(("not in", ParseMath1()));
            }
            else break;
        }
        return rest.Count == 0 ? first : new CompareExpr(first, rest, line);
    }

    private Expr ParseBinary(Func<Expr> operand, params string[] ops)
    {
        var left = operand();
        while (Current.Kind == TokenKind.Op && ops.Contains(Current.Value))
        {
            var op = Next();
            left = new BinaryExpr(op.Value, left, operand(), op.Line);
        }
        return left;
    }

    private Expr ParseMath1() => ParseBinary(ParseConcat, "+", "-");

    private Expr ParseConcat() => ParseBinary(ParseMath2, "~");

    private Expr ParseMath2() => ParseBinary(ParsePow, "*", "/", "//", "%");

    private Expr ParsePow() => ParseBinary(() => ParseUnary(), "**");

    private Expr ParseUnary(bool withFilter = true)
    {
        Expr node;
        if (IsOp("-") || IsOp("+"))
        {
            var op = Next();
            node = new UnaryExpr(op.Value, ParseUnary(withFilter: false), op.Line);
        }
        else
        {
            node = ParsePrimary();
        }
        node = ParsePostfix(node);
        return withFilter ? ParseFilterExpr(node) : node;
    }

    private Expr ParsePrimary()
    {
        var tok = Next();
        switch (tok.Kind)
        {
            case TokenKind.Name:
                return tok.Value switch
                {
                    "true" or "True" => new LiteralExpr(true, tok.Line),
                    "false" or "False" => new LiteralExpr(false, tok.Line),
                    "none" or "None" => new LiteralExpr(null, tok.Line),
                    _ => new NameExpr(tok.Value, tok.Line),
                };
            case TokenKind.String:
                // Adjacent string literals concatenate, as in Python.
                string s = tok.Value;
                while (Current.Kind == TokenKind.String) s += Next().Value;
                return new LiteralExpr(s, tok.Line);
            case TokenKind.Integer:
                return new LiteralExpr(long.Parse(tok.Value, CultureInfo.InvariantCulture), tok.Line);
            case TokenKind.Float:
                return new LiteralExpr(double.Parse(tok.Value, CultureInfo.InvariantCulture), tok.Line);
            case TokenKind.Op when tok.Value == "(":
                if (SkipOp(")")) return new ListExpr([], IsTuple: true, tok.Line);
                var inner = ParseTuple();
                ExpectOp(")");
                return inner;
            case TokenKind.Op when tok.Value == "[":
                var items = new List<Expr>();
                while (!SkipOp("]"))
                {
                    if (items.Count > 0) ExpectOp(",");
                    if (SkipOp("]")) break;
                    items.Add(ParseExpression());
                }
                return new ListExpr(items, IsTuple: false, tok.Line);
            case TokenKind.Op when tok.Value == "{":
                var pairs = new List<(Expr, Expr)>();
                while (!SkipOp("}"))
                {
                    if (pairs.Count > 0) ExpectOp(",");
                    if (SkipOp("}")) break;
                    var key = ParseExpression();
                    ExpectOp(":");
                    pairs.Add((key, ParseExpression()));
                }
                return new DictExpr(pairs, tok.Line);
            default:
                throw Error($"unexpected {tok}", tok);
        }
    }

    private Expr ParsePostfix(Expr node)
    {
        while (true)
        {
            var tok = Current;
            if (SkipOp("."))
            {
                var attr = Next();
                node = attr.Kind switch
                {
                    TokenKind.Name => new AttrExpr(node, attr.Value, tok.Line),
                    TokenKind.Integer => new ItemExpr(node, new LiteralExpr(long.Parse(attr.Value, CultureInfo.InvariantCulture), tok.Line), tok.Line),
                    _ => throw Error($"expected an attribute name, got {attr}", attr),
                };
            }
            else if (SkipOp("["))
            {
                node = ParseSubscript(node, tok.Line);
            }
            else if (IsOp("("))
            {
                node = new CallExpr(node, ParseArguments(), tok.Line);
            }
            else
            {
                return node;
            }
        }
    }

    private Expr ParseSubscript(Expr target, int line)
    {
        Expr? start = IsOp(":") ? null : ParseExpression();
        if (SkipOp("]"))
            return new ItemExpr(target, start!, line);
        ExpectOp(":");
        Expr? stop = IsOp("]") || IsOp(":") ? null : ParseExpression();
        Expr? step = null;
        if (SkipOp(":") && !IsOp("]")) step = ParseExpression();
        ExpectOp("]");
        return new SliceExpr(target, start, stop, step, line);
    }

    private Arguments ParseArguments()
    {
        ExpectOp("(");
        var positional = new List<Expr>();
        var named = new List<(string, Expr)>();
        while (!SkipOp(")"))
        {
            if (positional.Count + named.Count > 0) ExpectOp(",");
            if (SkipOp(")")) break;
            if (Current.Kind == TokenKind.Name && Peek().Is(TokenKind.Op, "="))
            {
                string name = Next().Value;
                _pos++;
                named.Add((name, ParseExpression()));
            }
            else
            {
                if (named.Count > 0) throw Error("positional argument follows keyword argument", Current);
                positional.Add(ParseExpression());
            }
        }
        return new Arguments(positional, named);
    }

    private Expr ParseFilterExpr(Expr node)
    {
        while (true)
        {
            var tok = Current;
            if (SkipOp("|"))
            {
                var nameTok = Current;
                string name = ExpectName();
                if (!Filters.HasFilter(name)) throw Error($"No filter named '{name}'.", nameTok);
                node = new FilterExpr(node, name, IsOp("(") ? ParseArguments() : Arguments.None, tok.Line);
            }
            else if (SkipName("is"))
            {
                bool negated = SkipName("not");
                var nameTok = Current;
                string name = ExpectName();
                if (!Filters.HasTest(name)) throw Error($"No test named '{name}'.", nameTok);
                Arguments args = Arguments.None;
                if (IsOp("("))
                    args = ParseArguments();
                else if (StartsBareTestArgument())
                    args = new Arguments([ParsePostfix(ParsePrimary())], []);
                node = new TestExpr(node, name, args, negated, tok.Line);
            }
            else if (IsOp("("))
            {
                node = new CallExpr(node, ParseArguments(), tok.Line);
            }
            else
            {
                return node;
            }
        }
    }

    // jinja2 allows one argument without parentheses: "x is divisibleby 3", "x is sameas false".
    private bool StartsBareTestArgument() => Current.Kind switch
    {
        TokenKind.Name => Current.Value is not ("else" or "or" or "and" or "if" or "in" or "not" or "is"),
        TokenKind.String or TokenKind.Integer or TokenKind.Float => true,
        TokenKind.Op => Current.Value is "[" or "{",
        _ => false,
    };
}
