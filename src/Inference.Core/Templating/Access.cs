using System.Globalization;
using System.Text;

namespace Inference.Templating;

/// <summary>Attribute, item and slice access with the sandboxed environment's rules, and the Python methods templates call.</summary>
internal static class Access
{
    // ImmutableSandboxedEnvironment refuses methods that mutate lists and dicts.
    private static readonly HashSet<string> s_listMutators = ["append", "extend", "insert", "pop", "remove", "clear", "sort", "reverse", "__setitem__", "__delitem__"];
    private static readonly HashSet<string> s_dictMutators = ["update", "pop", "popitem", "setdefault", "clear", "__setitem__", "__delitem__"];

    /// <summary>x.name: the Python attribute (a method) first, then the item.</summary>
    public static object? GetAttr(object? obj, string name)
    {
        if (obj is Undefined u) throw u.Error();
        return Method(obj, name) ?? obj switch
        {
            PyDict d when d.TryGetValue(name, out var v) => v,
            Namespace ns when ns.Attributes.TryGetValue(name, out var v) => v,
            LoopInfo loop => loop.Get(name),
            _ => Undefined.Attribute(obj, name),
        };
    }

    /// <summary>x[key]: the item first, then (for string keys) the attribute.</summary>
    public static object? GetItem(object? obj, object? key)
    {
        if (obj is Undefined u) throw u.Error();
        switch (obj)
        {
            case PyDict d when key is not null && d.TryGetValue(key, out var v):
                return v;
            case List<object?> list when Py.IsInteger(key):
                long i = Py.ToLong(key);
                if (i < 0) i += list.Count;
                return i >= 0 && i < list.Count ? list[(int)i] : Undefined.Attribute(obj, key);
            case string s when Py.IsInteger(key):
                var chars = Py.CodePoints(s);
                long j = Py.ToLong(key);
                if (j < 0) j += chars.Count;
                return j >= 0 && j < chars.Count ? chars[(int)j] : Undefined.Attribute(obj, key);
        }
        return key is string name ? GetAttr(obj, name) : Undefined.Attribute(obj, key);
    }

    public static object? Slice(object? obj, object? start, object? stop, object? step)
    {
        if (obj is Undefined u) throw u.Error();
        List<object?> items = obj switch
        {
            string s => [.. Py.CodePoints(s)],
            List<object?> l => l,
            _ => throw new TemplateException($"'{Py.TypeName(obj)}' object is not subscriptable"),
        };
        long n = items.Count;
        long st = step is null ? 1 : Py.ToLong(step);
        if (st == 0) throw new TemplateException("slice step cannot be zero");
        // Python's slice.indices(): clamp bounds, with defaults that depend on the step's sign.
        long Clamp(object? v, long dflt)
        {
            if (v is null) return dflt;
            long x = Py.ToLong(v);
            if (x < 0) x += n;
            return st > 0 ? Math.Clamp(x, 0, n) : Math.Clamp(x, -1, n - 1);
        }
        long a = Clamp(start, st > 0 ? 0 : n - 1), b = Clamp(stop, st > 0 ? n : -1);
        var result = new List<object?>();
        for (long i = a; st > 0 ? i < b : i > b; i += st) result.Add(items[(int)i]);
        return obj switch
        {
            string => string.Concat(result.Cast<string>()),
            PyTuple => new PyTuple(result),
            _ => result,
        };
    }

    private static PyCallable Bind(string name, Func<CallArgs, object?> fn) => new(name, fn);

    // Returns null when obj has no method of that name.
    private static object? Method(object? obj, string name) => obj switch
    {
        string s => StringMethod(s, name),
        PyDict d => s_dictMutators.Contains(name) ? Unsafe(obj, name) : DictMethod(d, name),
        List<object?> l => s_listMutators.Contains(name) ? Unsafe(obj, name) : ListMethod(l, name),
        _ => null,
    };

    private static Undefined Unsafe(object? obj, string name) =>
        new($"access to attribute '{name}' of '{Py.TypeName(obj)}' object is unsafe.", TemplateErrorKind.Security);

    private static PyCallable? DictMethod(PyDict d, string name) => name switch
    {
        "items" => Bind(name, _ => d.Select(p => (object?)new PyTuple([p.Key, p.Value])).ToList()),
        "keys" => Bind(name, _ => d.Keys.Cast<object?>().ToList()),
        "values" => Bind(name, _ => d.Values.ToList()),
        "get" => Bind(name, a => a.Positional.Count > 0 && a.Positional[0] is { } k && d.TryGetValue(k, out var v) ? v : a.Get(1, "default")),
        "copy" => Bind(name, _ =>
        {
            var copy = new PyDict();
            foreach (var (k, v) in d) copy[k] = v;
            return copy;
        }),
        _ => null,
    };

    private static PyCallable? ListMethod(List<object?> l, string name) => name switch
    {
        "index" => Bind(name, a =>
        {
            int i = l.FindIndex(x => Py.Equal(x, a.Get(0, "value")));
            return i >= 0 ? (long)i : throw new TemplateException($"{Py.Repr(a.Get(0, "value"))} is not in list");
        }),
        "count" => Bind(name, a => (long)l.Count(x => Py.Equal(x, a.Get(0, "value")))),
        "copy" => Bind(name, _ => l.ToList()),
        _ => null,
    };

    private static string? OptString(CallArgs a, int index, string name)
    {
        var v = a.Get(index, name);
        return v is null ? null : v as string ?? throw new TemplateException($"{name} must be a string, not {Py.TypeName(v)}");
    }

    private static PyCallable? StringMethod(string s, string name) => name switch
    {
        "strip" => Bind(name, a => Strings.Strip(s, OptString(a, 0, "chars"), true, true)),
        "lstrip" => Bind(name, a => Strings.Strip(s, OptString(a, 0, "chars"), true, false)),
        "rstrip" => Bind(name, a => Strings.Strip(s, OptString(a, 0, "chars"), false, true)),
        "split" => Bind(name, a => Strings.Split(s, OptString(a, 0, "sep"), a.Has(1, "maxsplit") ? Py.ToLong(a.Get(1, "maxsplit")) : -1)),
        "rsplit" => Bind(name, a => Strings.RSplit(s, OptString(a, 0, "sep"), a.Has(1, "maxsplit") ? Py.ToLong(a.Get(1, "maxsplit")) : -1)),
        "splitlines" => Bind(name, _ => Strings.SplitLines(s).Cast<object?>().ToList()),
        "startswith" => Bind(name, a => Strings.AnyAffix(a.Get(0, "prefix"), p => s.StartsWith(p, StringComparison.Ordinal))),
        "endswith" => Bind(name, a => Strings.AnyAffix(a.Get(0, "suffix"), p => s.EndsWith(p, StringComparison.Ordinal))),
        "upper" => Bind(name, _ => s.ToUpperInvariant()),
        "lower" => Bind(name, _ => s.ToLowerInvariant()),
        "title" => Bind(name, _ => Strings.Title(s)),
        "capitalize" => Bind(name, _ => Strings.Capitalize(s)),
        "replace" => Bind(name, a => Strings.Replace(s, OptString(a, 0, "old") ?? "", OptString(a, 1, "new") ?? "", a.Has(2, "count") ? Py.ToLong(a.Get(2, "count")) : -1)),
        "find" => Bind(name, a => (long)s.IndexOf(OptString(a, 0, "sub") ?? "", StringComparison.Ordinal)),
        "rfind" => Bind(name, a => (long)s.LastIndexOf(OptString(a, 0, "sub") ?? "", StringComparison.Ordinal)),
        "count" => Bind(name, a => (long)Strings.Count(s, OptString(a, 0, "sub") ?? "")),
        "join" => Bind(name, a => string.Join(s, Py.Iterate(a.Get(0, "iterable")).Select(x => x as string ?? throw new TemplateException($"sequence item: expected str instance, {Py.TypeName(x)} found")))),
        "format" => Bind(name, a => Strings.Format(s, a)),
        "isdigit" => Bind(name, _ => s.Length > 0 && s.All(char.IsDigit)),
        "isalpha" => Bind(name, _ => s.Length > 0 && s.All(char.IsLetter)),
        "isalnum" => Bind(name, _ => s.Length > 0 && s.All(char.IsLetterOrDigit)),
        "isspace" => Bind(name, _ => s.Length > 0 && s.All(Strings.IsSpace)),
        "islower" => Bind(name, _ => s.Any(char.IsLetter) && !s.Any(char.IsUpper)),
        "isupper" => Bind(name, _ => s.Any(char.IsLetter) && !s.Any(char.IsLower)),
        _ => null,
    };
}

/// <summary>Python str methods that .NET lacks or does differently.</summary>
internal static class Strings
{
    public static bool IsSpace(char c) => char.IsWhiteSpace(c) || c is >= '\x1c' and <= '\x1f';

    public static string Strip(string s, string? chars, bool left, bool right)
    {
        Func<char, bool> drop = chars is null ? IsSpace : chars.Contains;
        int a = 0, b = s.Length;
        if (left) while (a < b && drop(s[a])) a++;
        if (right) while (b > a && drop(s[b - 1])) b--;
        return s[a..b];
    }

    public static List<object?> Split(string s, string? sep, long maxsplit)
    {
        var result = new List<object?>();
        if (sep is null)
        {
            // Whitespace split: runs of whitespace separate, and empty strings are never produced.
            int i = 0;
            while (true)
            {
                while (i < s.Length && IsSpace(s[i])) i++;
                if (i >= s.Length) break;
                if (maxsplit >= 0 && result.Count == maxsplit)
                {
                    result.Add(Strip(s[i..], null, false, true));
                    break;
                }
                int start = i;
                while (i < s.Length && !IsSpace(s[i])) i++;
                result.Add(s[start..i]);
            }
            return result;
        }
        if (sep.Length == 0) throw new TemplateException("empty separator");
        int pos = 0;
        while (maxsplit < 0 || result.Count < maxsplit)
        {
            int idx = s.IndexOf(sep, pos, StringComparison.Ordinal);
            if (idx < 0) break;
            result.Add(s[pos..idx]);
            pos = idx + sep.Length;
        }
        result.Add(s[pos..]);
        return result;
    }

    public static List<object?> RSplit(string s, string? sep, long maxsplit)
    {
        if (maxsplit < 0 || sep is null) return Split(s, sep, maxsplit);
        if (sep.Length == 0) throw new TemplateException("empty separator");
        var parts = new List<object?>();
        int end = s.Length;
        while (parts.Count < maxsplit)
        {
            int idx = end == 0 ? -1 : s.LastIndexOf(sep, end - 1, StringComparison.Ordinal);
            if (idx < 0 || idx + sep.Length > end) break;
            parts.Insert(0, s[(idx + sep.Length)..end]);
            end = idx;
        }
        parts.Insert(0, s[..end]);
        return parts;
    }

    public static List<string> SplitLines(string s)
    {
        var lines = new List<string>();
        int start = 0;
        for (int i = 0; i < s.Length; i++)
        {
            if (s[i] is not ('\n' or '\r' or '\v' or '\f' or '\x1c' or '\x1d' or '\x1e' or '\x85' or '\u2028' or '\u2029')) continue;
            lines.Add(s[start..i]);
            if (s[i] == '\r' && i + 1 < s.Length && s[i + 1] == '\n') i++;
            start = i + 1;
        }
        if (start < s.Length) lines.Add(s[start..]);
        return lines;
    }

    public static bool AnyAffix(object? affix, Func<string, bool> test) => affix switch
    {
        string s => test(s),
        PyTuple t => t.Any(x => test(x as string ?? throw new TemplateException("tuple for startswith/endswith must only contain str"))),
        _ => throw new TemplateException($"startswith/endswith first arg must be str or a tuple of str, not {Py.TypeName(affix)}"),
    };

    public static string Title(string s)
    {
        var sb = new StringBuilder(s.Length);
        bool prevCased = false;
        foreach (char c in s)
        {
            sb.Append(prevCased ? char.ToLowerInvariant(c) : char.ToUpperInvariant(c));
            prevCased = char.IsLetter(c);
        }
        return sb.ToString();
    }

    public static string Capitalize(string s) => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..].ToLowerInvariant();

    public static string Replace(string s, string old, string replacement, long count)
    {
        if (count < 0) return old.Length == 0 ? InsertEverywhere(s, replacement) : s.Replace(old, replacement, StringComparison.Ordinal);
        var sb = new StringBuilder();
        int pos = 0;
        for (long n = 0; n < count; n++)
        {
            int idx = s.IndexOf(old, pos, StringComparison.Ordinal);
            if (idx < 0 || old.Length == 0) break;
            sb.Append(s, pos, idx - pos).Append(replacement);
            pos = idx + old.Length;
        }
        return sb.Append(s, pos, s.Length - pos).ToString();
    }

    private static string InsertEverywhere(string s, string r) => r + string.Concat(Py.CodePoints(s).Select(c => c + r));

    public static int Count(string s, string sub)
    {
        if (sub.Length == 0) return Py.CodePoints(s).Count + 1;
        int n = 0;
        for (int i = s.IndexOf(sub, StringComparison.Ordinal); i >= 0; i = s.IndexOf(sub, i + sub.Length, StringComparison.Ordinal)) n++;
        return n;
    }

    /// <summary>str.format with {}, {0} and {name} fields (no format specs).</summary>
    public static string Format(string fmt, CallArgs a)
    {
        var sb = new StringBuilder();
        int auto = 0;
        for (int i = 0; i < fmt.Length; i++)
        {
            char c = fmt[i];
            if ((c == '{' || c == '}') && i + 1 < fmt.Length && fmt[i + 1] == c)
            {
                sb.Append(c);
                i++;
                continue;
            }
            if (c != '{')
            {
                sb.Append(c);
                continue;
            }
            int end = fmt.IndexOf('}', i);
            if (end < 0) throw new TemplateException("Single '{' encountered in format string");
            string field = fmt[(i + 1)..end];
            int index = field.Length == 0 ? auto++ : int.TryParse(field, NumberStyles.None, CultureInfo.InvariantCulture, out int i2) ? i2 : -1;
            object? value = index >= 0
                ? (index < a.Positional.Count ? a.Positional[index] : throw new TemplateException("IndexError: Replacement index out of range"))
                : a.Named.TryGetValue(field, out var v) ? v : throw new TemplateException($"KeyError: '{field}'");
            sb.Append(Py.Str(value));
            i = end;
        }
        return sb.ToString();
    }
}
