using System.Text;

namespace Inference.Templating;

/// <summary>Variable frames: the template's top level, each for-loop iteration and each macro call get their own.</summary>
internal sealed class Scope(Scope? parent)
{
    private readonly Dictionary<string, object?> _vars = new(StringComparer.Ordinal);
    private readonly Scope? _parent = parent;

    public bool TryGet(string name, out object? value)
    {
        for (var s = this; s is not null; s = s._parent)
            if (s._vars.TryGetValue(name, out value))
                return true;
        value = null;
        return false;
    }

    public void Set(string name, object? value) => _vars[name] = value;
}

/// <summary>Renders a parsed template; one instance per render, so rendering a shared template is thread-safe.</summary>
internal sealed class Evaluator
{
    private enum Flow { Normal, Break, Continue }

    private readonly Scope _root;

    public Evaluator(IEnumerable<KeyValuePair<string, object?>> variables)
    {
        var globals = new Scope(null);
        foreach (var (name, fn) in Builtins.Globals)
            globals.Set(name, fn);
        _root = new Scope(globals);
        foreach (var (name, value) in variables)
            _root.Set(name, Py.FromClr(value));
    }

    public string Render(IReadOnlyList<Node> body)
    {
        var sb = new StringBuilder();
        Exec(body, _root, sb);
        return sb.ToString();
    }

    private Flow Exec(IReadOnlyList<Node> nodes, Scope scope, StringBuilder sb)
    {
        foreach (var node in nodes)
        {
            var flow = ExecNode(node, scope, sb);
            if (flow != Flow.Normal) return flow;
        }
        return Flow.Normal;
    }

    private Flow ExecNode(Node node, Scope scope, StringBuilder sb)
    {
        try
        {
            switch (node)
            {
                case TextNode t:
                    sb.Append(t.Text);
                    return Flow.Normal;
                case OutputNode o:
                    sb.Append(Py.Str(Eval(o.Value, scope)));
                    return Flow.Normal;
                case IfNode i:
                    foreach (var (test, body) in i.Branches)
                        if (Py.Truthy(Eval(test, scope)))
                            return Exec(body, scope, sb);
                    return i.Else is null ? Flow.Normal : Exec(i.Else, scope, sb);
                case ForNode f:
                    ExecFor(f, scope, sb);
                    return Flow.Normal;
                case SetNode s:
                    Assign(s.Target, s.Value is null ? RenderToString(s.Body!, scope) : Eval(s.Value, scope), scope);
                    return Flow.Normal;
                case MacroNode m:
                    scope.Set(m.Name, MakeMacro(m, scope));
                    return Flow.Normal;
                case BlockNode b:
                    return Exec(b.Body, scope, sb);
                case BreakNode:
                    return Flow.Break;
                case ContinueNode:
                    return Flow.Continue;
                default:
                    throw new InvalidOperationException(node.GetType().Name);
            }
        }
        catch (TemplateException e) when (e.Line is null)
        {
            throw e.WithLine(node.Line);
        }
    }

    private string RenderToString(IReadOnlyList<Node> body, Scope scope)
    {
        var sb = new StringBuilder();
        Exec(body, scope, sb);
        return sb.ToString();
    }

    private void ExecFor(ForNode f, Scope scope, StringBuilder sb)
    {
        var items = Py.Iterate(Eval(f.Iterable, scope));
        if (f.Filter is not null)
        {
            // loop.length, loop.last etc. count only the items that pass the filter, as in jinja2.
            var kept = new List<object?>();
            foreach (var item in items)
            {
                var probe = new Scope(scope);
                Bind(f.Targets, item, probe);
                if (Py.Truthy(Eval(f.Filter, probe))) kept.Add(item);
            }
            items = kept;
        }
        if (items.Count == 0)
        {
            if (f.Else is not null) Exec(f.Else, scope, sb);
            return;
        }
        for (int i = 0; i < items.Count; i++)
        {
            var iteration = new Scope(scope);
            Bind(f.Targets, items[i], iteration);
            iteration.Set("loop", new LoopInfo(items, i));
            if (Exec(f.Body, iteration, sb) == Flow.Break) break;
        }
    }

    private static void Bind(IReadOnlyList<string> targets, object? value, Scope scope)
    {
        if (targets.Count == 1)
        {
            scope.Set(targets[0], value);
            return;
        }
        var parts = Py.Iterate(value);
        if (parts.Count != targets.Count)
            throw new TemplateException(parts.Count > targets.Count ? $"too many values to unpack (expected {targets.Count})" : $"not enough values to unpack (expected {targets.Count}, got {parts.Count})");
        for (int i = 0; i < targets.Count; i++) scope.Set(targets[i], parts[i]);
    }

    private void Assign(Expr target, object? value, Scope scope)
    {
        switch (target)
        {
            case NameExpr n:
                scope.Set(n.Name, value);
                break;
            case AttrExpr { Target: NameExpr ns } a:
                if (!scope.TryGet(ns.Name, out var obj) || obj is not Namespace nsObj)
                    throw new TemplateException("cannot assign attribute on non-namespace object");
                nsObj.Attributes[a.Name] = value;
                break;
            case ListExpr l:
                Bind(l.Items.Select(i => ((NameExpr)i).Name).ToList(), value, scope);
                break;
            default:
                throw new TemplateException("invalid assignment target");
        }
    }

    private PyCallable MakeMacro(MacroNode m, Scope defining) => new(m.Name, args =>
    {
        var scope = new Scope(defining);
        if (args.Positional.Count > m.Params.Count)
            throw new TemplateException($"macro '{m.Name}' takes not more than {m.Params.Count} argument(s)");
        for (int i = 0; i < m.Params.Count; i++)
        {
            var (name, def) = m.Params[i];
            object? value = i < args.Positional.Count ? args.Positional[i]
                : args.Named.TryGetValue(name, out var v) ? v
                : def is null ? Undefined.Name(name) : Eval(def, scope);
            scope.Set(name, value);
        }
        foreach (var name in args.Named.Keys)
            if (!m.Params.Any(p => p.Name == name))
                throw new TemplateException($"macro '{m.Name}' takes no keyword argument '{name}'");
        return RenderToString(m.Body, scope);
    });

    // ---- expressions ----

    public object? Eval(Expr expr, Scope scope)
    {
        switch (expr)
        {
            case LiteralExpr l:
                return l.Value;
            case NameExpr n:
                return scope.TryGet(n.Name, out var v) ? v : Undefined.Name(n.Name);
            case ListExpr l:
                var items = l.Items.Select(i => Eval(i, scope));
                return l.IsTuple ? new PyTuple(items) : items.ToList();
            case DictExpr d:
                var dict = new PyDict();
                foreach (var (k, val) in d.Items)
                    dict[Eval(k, scope) ?? throw new TemplateException("None is not supported as a dict key")] = Eval(val, scope);
                return dict;
            case AttrExpr a:
                return Access.GetAttr(Eval(a.Target, scope), a.Name);
            case ItemExpr i:
                return Access.GetItem(Eval(i.Target, scope), Eval(i.Key, scope));
            case SliceExpr s:
                return Access.Slice(Eval(s.Target, scope), EvalOpt(s.Start, scope), EvalOpt(s.Stop, scope), EvalOpt(s.Step, scope));
            case CallExpr c:
                return Call(Eval(c.Target, scope), EvalArgs(c.Args, scope));
            case FilterExpr f:
                return Filters.ApplyFilter(this, f.Name, Eval(f.Value, scope), EvalArgs(f.Args, scope));
            case TestExpr t:
                return Filters.ApplyTest(t.Name, Eval(t.Value, scope), EvalArgs(t.Args, scope)) != t.Negated;
            case UnaryExpr u:
                var operand = Eval(u.Operand, scope);
                return u.Op == "not" ? !Py.Truthy(operand) : Operators.Unary(u.Op, operand);
            case BinaryExpr { Op: "and" } b:
                var left = Eval(b.Left, scope);
                return Py.Truthy(left) ? Eval(b.Right, scope) : left;
            case BinaryExpr { Op: "or" } b:
                left = Eval(b.Left, scope);
                return Py.Truthy(left) ? left : Eval(b.Right, scope);
            case BinaryExpr b:
                return Operators.Binary(b.Op, Eval(b.Left, scope), Eval(b.Right, scope));
            case CompareExpr c:
                var current = Eval(c.First, scope);
                foreach (var (op, operandExpr) in c.Rest)
                {
                    var next = Eval(operandExpr, scope);
                    if (!Operators.Compare(op, current, next)) return false;
                    current = next;
                }
                return true;
            case CondExpr c:
                if (Py.Truthy(Eval(c.Test, scope))) return Eval(c.Then, scope);
                return c.Else is null ? new Undefined("the inline if-expression evaluated to false and no else section was defined.") : Eval(c.Else, scope);
            default:
                throw new InvalidOperationException(expr.GetType().Name);
        }
    }

    private object? EvalOpt(Expr? e, Scope scope) => e is null ? null : Eval(e, scope);

    private CallArgs EvalArgs(Arguments args, Scope scope)
    {
        if (args.Positional.Count == 0 && args.Named.Count == 0) return CallArgs.Empty;
        var named = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (name, value) in args.Named) named[name] = Eval(value, scope);
        return new CallArgs(args.Positional.Select(p => Eval(p, scope)).ToList(), named);
    }

    public static object? Call(object? target, CallArgs args) => target switch
    {
        PyCallable f => f.Invoke(args),
        Undefined u => throw u.Error(),
        _ => throw new TemplateException($"'{Py.TypeName(target)}' object is not callable"),
    };
}
