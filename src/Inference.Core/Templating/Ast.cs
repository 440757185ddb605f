namespace Inference.Templating;

// Statements. Line numbers are carried so runtime errors can point at the template.
internal abstract record Node(int Line);

internal sealed record TextNode(string Text, int Line) : Node(Line);

internal sealed record OutputNode(Expr Value, int Line) : Node(Line);

internal sealed record IfNode(IReadOnlyList<(Expr Test, IReadOnlyList<Node> Body)> Branches, IReadOnlyList<Node>? Else, int Line) : Node(Line);

internal sealed record ForNode(IReadOnlyList<string> Targets, Expr Iterable, Expr? Filter, IReadOnlyList<Node> Body, IReadOnlyList<Node>? Else, int Line) : Node(Line);

/// <summary>{% set target = value %} or the block form {% set target %}body{% endset %}.</summary>
internal sealed record SetNode(Expr Target, Expr? Value, IReadOnlyList<Node>? Body, int Line) : Node(Line);

internal sealed record MacroNode(string Name, IReadOnlyList<(string Name, Expr? Default)> Params, IReadOnlyList<Node> Body, int Line) : Node(Line);

/// <summary>Blocks that render their body unchanged, such as transformers' {% generation %}.</summary>
internal sealed record BlockNode(IReadOnlyList<Node> Body, int Line) : Node(Line);

internal sealed record BreakNode(int Line) : Node(Line);

internal sealed record ContinueNode(int Line) : Node(Line);

// Expressions.
internal abstract record Expr(int Line);

internal sealed record LiteralExpr(object? Value, int Line) : Expr(Line);

internal sealed record NameExpr(string Name, int Line) : Expr(Line);

internal sealed record ListExpr(IReadOnlyList<Expr> Items, bool IsTuple, int Line) : Expr(Line);

internal sealed record DictExpr(IReadOnlyList<(Expr Key, Expr Value)> Items, int Line) : Expr(Line);

internal sealed record AttrExpr(Expr Target, string Name, int Line) : Expr(Line);

internal sealed record ItemExpr(Expr Target, Expr Key, int Line) : Expr(Line);

internal sealed record SliceExpr(Expr Target, Expr? Start, Expr? Stop, Expr? Step, int Line) : Expr(Line);

internal sealed record Arguments(IReadOnlyList<Expr> Positional, IReadOnlyList<(string Name, Expr Value)> Named)
{
    public static readonly Arguments None = new([], []);
}

internal sealed record CallExpr(Expr Target, Arguments Args, int Line) : Expr(Line);

internal sealed record FilterExpr(Expr Value, string Name, Arguments Args, int Line) : Expr(Line);

internal sealed record TestExpr(Expr Value, string Name, Arguments Args, bool Negated, int Line) : Expr(Line);

/// <summary>Unary operator: "not", "-" or "+".</summary>
internal sealed record UnaryExpr(string Op, Expr Operand, int Line) : Expr(Line);

/// <summary>Binary operator: and, or, + - * / // % ** ~.</summary>
internal sealed record BinaryExpr(string Op, Expr Left, Expr Right, int Line) : Expr(Line);

/// <summary>A comparison chain such as a &lt; b &lt;= c; ops include "in" and "not in".</summary>
internal sealed record CompareExpr(Expr First, IReadOnlyList<(string Op, Expr Operand)> Rest, int Line) : Expr(Line);

/// <summary>x if test else y; without else the result is undefined when test is false.</summary>
internal sealed record CondExpr(Expr Test, Expr Then, Expr? Else, int Line) : Expr(Line);
