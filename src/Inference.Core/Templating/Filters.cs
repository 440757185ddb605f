using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Inference.Templating;

/// <summary>jinja2's built-in filters and tests, with transformers' tojson.</summary>
internal static class Filters
{
    private delegate object? Filter(Evaluator ev, object? value, CallArgs args);

    private delegate bool Test(object? value, CallArgs args);

    public static bool HasFilter(string name) => s_filters.ContainsKey(name);

    public static bool HasTest(string name) => s_tests.ContainsKey(name);

    public static object? ApplyFilter(Evaluator ev, string name, object? value, CallArgs args) => s_filters[name](ev, value, args);

    public static bool ApplyTest(string name, object? value, CallArgs args) => s_tests[name](value, args);

    private static readonly Dictionary<string, Filter> s_filters = new()
    {
        ["tojson"] = (_, v, a) => ToJson(v, a),
        ["trim"] = (_, v, a) => Strings.Strip(Py.Str(v), a.Get(0, "chars") as string, true, true),
        ["length"] = (_, v, _) => Py.Length(v),
        ["count"] = (_, v, _) => Py.Length(v),
        ["first"] = (_, v, _) => Py.Iterate(v) is { Count: > 0 } l ? l[0] : new Undefined("No first item, sequence was empty."),
        ["last"] = (_, v, _) => Py.Iterate(v) is { Count: > 0 } l ? l[^1] : new Undefined("No last item, sequence was empty."),
        ["join"] = (_, v, a) => string.Join(Py.Str(a.Get(0, "d", "")), Items(v, a.Get(1, "attribute")).Select(Py.Str)),
        ["default"] = Default,
        ["d"] = Default,
        ["upper"] = (_, v, _) => Py.Str(v).ToUpperInvariant(),
        ["lower"] = (_, v, _) => Py.Str(v).ToLowerInvariant(),
        ["capitalize"] = (_, v, _) => Strings.Capitalize(Py.Str(v)),
        ["title"] = (_, v, _) => Title(Py.Str(v)),
        ["replace"] = (_, v, a) => Strings.Replace(Py.Str(v), Py.Str(a.Get(0, "old")), Py.Str(a.Get(1, "new")), a.Has(2, "count") && a.Get(2, "count") is not null ? Py.ToLong(a.Get(2, "count")) : -1),
        ["string"] = (_, v, _) => Py.Str(v),
        ["safe"] = (_, v, _) => v,
        ["escape"] = (_, v, _) => Escape(v),
        ["e"] = (_, v, _) => Escape(v),
        ["int"] = (_, v, a) => ToInt(v, a.Get(0, "default", 0L)),
        ["float"] = (_, v, a) => ToFloat(v, a.Get(0, "default", 0.0)),
        ["abs"] = (_, v, _) => v is double d ? Math.Abs(d) : (object)Math.Abs(Py.ToLong(v)),
        ["round"] = (_, v, a) => Round(v, a),
        ["list"] = (_, v, _) => Py.Iterate(v).ToList(),
        ["items"] = (_, v, _) => v switch
        {
            Undefined => new List<object?>(),
            PyDict d => d.Select(p => (object?)new PyTuple([p.Key, p.Value])).ToList(),
            _ => throw new TemplateException("Can only get item pairs from a mapping."),
        },
        ["dictsort"] = DictSort,
        ["map"] = Map,
        ["select"] = (ev, v, a) => Select(ev, v, a, keep: true, byAttribute: false),
        ["reject"] = (ev, v, a) => Select(ev, v, a, keep: false, byAttribute: false),
        ["selectattr"] = (ev, v, a) => Select(ev, v, a, keep: true, byAttribute: true),
        ["rejectattr"] = (ev, v, a) => Select(ev, v, a, keep: false, byAttribute: true),
        ["unique"] = Unique,
        ["sort"] = Sort,
        ["reverse"] = (_, v, _) => v is string s ? string.Concat(Enumerable.Reverse(Py.CodePoints(s))) : Enumerable.Reverse(Py.Iterate(v)).ToList(),
        ["sum"] = (_, v, a) => Items(v, a.Get(0, "attribute")).Aggregate(a.Get(1, "start", 0L), (acc, x) => Operators.Binary("+", acc, x)),
        ["min"] = (_, v, a) => MinMax(v, a, -1),
        ["max"] = (_, v, a) => MinMax(v, a, 1),
        ["indent"] = Indent,
        ["wordcount"] = (_, v, _) => (long)Regex.Count(Py.Str(v), @"\w+"),
        ["center"] = (_, v, a) => Center(Py.Str(v), (int)Py.ToLong(a.Get(0, "width", 80L))),
        ["format"] = (_, v, a) => Operators.Binary("%", Py.Str(v), a.Named.Count > 0 ? throw new TemplateException("format filter: keyword arguments are not supported") : new PyTuple(a.Positional)),
        ["batch"] = Batch,
    };

    private static readonly Dictionary<string, Test> s_tests = new()
    {
        ["defined"] = (v, _) => v is not Undefined,
        ["undefined"] = (v, _) => v is Undefined,
        ["none"] = (v, _) => v is null,
        ["string"] = (v, _) => v is string,
        ["mapping"] = (v, _) => v is PyDict,
        ["iterable"] = (v, _) => Py.IsIterable(v),
        ["sequence"] = (v, _) => v is string or List<object?> or PyDict,
        ["number"] = (v, _) => Py.IsNumber(v),
        ["integer"] = (v, _) => v is long,
        ["float"] = (v, _) => v is double,
        ["boolean"] = (v, _) => v is bool,
        ["true"] = (v, _) => v is true,
        ["false"] = (v, _) => v is false,
        ["callable"] = (v, _) => v is PyCallable,
        ["odd"] = (v, _) => Py.ToLong(v) % 2 != 0,
        ["even"] = (v, _) => Py.ToLong(v) % 2 == 0,
        ["divisibleby"] = (v, a) => Py.ToLong(v) % Py.ToLong(a.Get(0, "num")) == 0,
        ["lower"] = (v, _) => Py.Str(v) is var s && s == s.ToLowerInvariant(),
        ["upper"] = (v, _) => Py.Str(v) is var s && s == s.ToUpperInvariant(),
        ["sameas"] = (v, a) => SameAs(v, a.Get(0, "other")),
        ["in"] = (v, a) => Operators.Contains(a.Get(0, "seq"), v),
        ["equalto"] = (v, a) => Py.Equal(v, a.Get(0, "other")),
        ["eq"] = (v, a) => Py.Equal(v, a.Get(0, "other")),
        ["=="] = (v, a) => Py.Equal(v, a.Get(0, "other")),
        ["ne"] = (v, a) => !Py.Equal(v, a.Get(0, "other")),
        ["!="] = (v, a) => !Py.Equal(v, a.Get(0, "other")),
        ["lt"] = (v, a) => Operators.Order("<", v, a.Get(0, "other")) < 0,
        ["lessthan"] = (v, a) => Operators.Order("<", v, a.Get(0, "other")) < 0,
        ["<"] = (v, a) => Operators.Order("<", v, a.Get(0, "other")) < 0,
        ["le"] = (v, a) => Operators.Order("<=", v, a.Get(0, "other")) <= 0,
        ["<="] = (v, a) => Operators.Order("<=", v, a.Get(0, "other")) <= 0,
        ["gt"] = (v, a) => Operators.Order(">", v, a.Get(0, "other")) > 0,
        ["greaterthan"] = (v, a) => Operators.Order(">", v, a.Get(0, "other")) > 0,
        [">"] = (v, a) => Operators.Order(">", v, a.Get(0, "other")) > 0,
        ["ge"] = (v, a) => Operators.Order(">=", v, a.Get(0, "other")) >= 0,
        [">="] = (v, a) => Operators.Order(">=", v, a.Get(0, "other")) >= 0,
    };

    private static bool SameAs(object? a, object? b) =>
        a is null || b is null || a is bool || b is bool ? Equals(a, b) && a?.GetType() == b?.GetType() : ReferenceEquals(a, b);

    // transformers' tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False).
    private static string ToJson(object? v, CallArgs a)
    {
        var seps = a.Get(2, "separators");
        (string, string)? separators = seps is List<object?> { Count: 2 } s ? (Py.Str(s[0]), Py.Str(s[1])) : null;
        var indent = a.Get(1, "indent");
        return PyJson.Dumps(v, indent is null ? null : (int)Py.ToLong(indent), Py.Truthy(a.Get(0, "ensure_ascii", false)), separators, Py.Truthy(a.Get(3, "sort_keys", false)));
    }

    private static object? Default(Evaluator ev, object? v, CallArgs a)
    {
        bool boolean = Py.Truthy(a.Get(1, "boolean", false));
        return v is Undefined || (boolean && !Py.Truthy(v)) ? a.Get(0, "default_value", "") : v;
    }

    // markupsafe.escape; with autoescaping off (as in transformers) the result prints as plain text.
    private static string Escape(object? v) => Py.Str(v).Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;").Replace("'", "&#39;").Replace("\"", "&#34;");

    private static object? ToInt(object? v, object? fallback)
    {
        switch (v)
        {
            case bool or long: return Py.ToLong(v);
            case double d: return double.IsFinite(d) ? (long)Math.Truncate(d) : fallback;
            case string s:
                s = s.Trim().Replace("_", "");
                if (long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long l)) return l;
                // jinja2 falls back to float parsing, so "3.7"|int is 3.
                return double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double f) && double.IsFinite(f) ? (long)Math.Truncate(f) : fallback;
            default: return fallback;
        }
    }

    private static object? ToFloat(object? v, object? fallback) => v switch
    {
        bool or long or double => Py.ToDouble(v),
        string s when double.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double d) => d,
        _ => fallback,
    };

    private static object Round(object? v, CallArgs a)
    {
        double x = Py.ToDouble(v);
        int precision = (int)Py.ToLong(a.Get(0, "precision", 0L));
        string method = Py.Str(a.Get(1, "method", "common"));
        double scale = Math.Pow(10, precision);
        return method switch
        {
            "common" => Math.Round(x * scale, MidpointRounding.AwayFromZero) / scale,
            "ceil" => Math.Ceiling(x * scale) / scale,
            "floor" => Math.Floor(x * scale) / scale,
            _ => throw new TemplateException("method must be common, ceil or floor"),
        };
    }

    private static string Title(string s)
    {
        // jinja2's title(): words start after whitespace, '-', and opening brackets; the rest of each word is lowercased.
        var sb = new StringBuilder(s.Length);
        bool wordStart = true;
        foreach (char c in s)
        {
            bool separator = char.IsWhiteSpace(c) || c is '-' or '(' or '{' or '[' or '<';
            sb.Append(separator ? c : wordStart ? char.ToUpperInvariant(c) : char.ToLowerInvariant(c));
            wordStart = separator;
        }
        return sb.ToString();
    }

    private static string Center(string s, int width)
    {
        if (s.Length >= width) return s;
        int total = width - s.Length, left = total / 2 + (total & width & 1);
        return new string(' ', left) + s + new string(' ', total - left);
    }

    /// <summary>jinja2's attribute lookup for filters: dotted paths, item access first, integers as indices.</summary>
    private static object? Attribute(object? item, object? attribute)
    {
        if (attribute is null) return item;
        if (attribute is not string path) return Access.GetItem(item, attribute);
        foreach (var part in path.Split('.'))
            item = Access.GetItem(item, int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out int i) ? (long)i : part);
        return item;
    }

    private static IEnumerable<object?> Items(object? v, object? attribute) => Py.Iterate(v).Select(x => Attribute(x, attribute));

    private static object? Map(Evaluator ev, object? v, CallArgs a)
    {
        if (a.Named.TryGetValue("attribute", out var attribute))
        {
            bool hasDefault = a.Named.TryGetValue("default", out var fallback);
            return Py.Iterate(v).Select(x => Attribute(x, attribute) is Undefined && hasDefault ? fallback : Attribute(x, attribute)).ToList();
        }
        if (a.Positional.Count == 0) throw new TemplateException("map requires a filter name or attribute=");
        string name = Py.Str(a.Positional[0]);
        if (!HasFilter(name)) throw new TemplateException($"No filter named '{name}'.");
        var rest = new CallArgs(a.Positional.Skip(1).ToList(), a.Named);
        return Py.Iterate(v).Select(x => ApplyFilter(ev, name, x, rest)).ToList();
    }

    private static List<object?> Select(Evaluator ev, object? v, CallArgs a, bool keep, bool byAttribute)
    {
        int offset = byAttribute ? 1 : 0;
        object? attribute = byAttribute ? a.Get(0, "attribute") : null;
        Func<object?, bool> predicate;
        if (a.Positional.Count <= offset)
        {
            predicate = Py.Truthy;
        }
        else
        {
            string name = Py.Str(a.Positional[offset]);
            if (!HasTest(name)) throw new TemplateException($"No test named '{name}'.");
            var rest = new CallArgs(a.Positional.Skip(offset + 1).ToList(), a.Named);
            predicate = x => ApplyTest(name, x, rest);
        }
        return Py.Iterate(v).Where(x => predicate(byAttribute ? Attribute(x, attribute) : x) == keep).ToList();
    }

    private static object? SortKey(object? v, bool caseSensitive) => !caseSensitive && v is string s ? s.ToLowerInvariant() : v;

    private static object? DictSort(Evaluator ev, object? v, CallArgs a)
    {
        if (v is not PyDict d) throw new TemplateException("You can only sort mappings");
        bool caseSensitive = Py.Truthy(a.Get(0, "case_sensitive", false));
        string by = Py.Str(a.Get(1, "by", "key"));
        int pos = by == "key" ? 0 : by == "value" ? 1 : throw new TemplateException("You can only sort by either \"key\" or \"value\"");
        var pairs = d.Select(p => new PyTuple([p.Key, p.Value])).ToList();
        pairs.Sort((x, y) => Operators.Order("<", SortKey(x[pos], caseSensitive), SortKey(y[pos], caseSensitive)));
        if (Py.Truthy(a.Get(2, "reverse", false))) pairs.Reverse();
        return pairs.Cast<object?>().ToList();
    }

    private static object? Sort(Evaluator ev, object? v, CallArgs a)
    {
        bool reverse = Py.Truthy(a.Get(0, "reverse", false)), caseSensitive = Py.Truthy(a.Get(1, "case_sensitive", false));
        var attribute = a.Get(2, "attribute");
        var list = Py.Iterate(v).ToList();
        // List.Sort is not stable, Python's sort is: order by key, then by original position.
        var indexed = list.Select((x, i) => (x, i)).ToList();
        indexed.Sort((p, q) =>
        {
            int c = Operators.Order("<", SortKey(Attribute(p.x, attribute), caseSensitive), SortKey(Attribute(q.x, attribute), caseSensitive));
            return c != 0 ? (reverse ? -c : c) : p.i.CompareTo(q.i);
        });
        return indexed.Select(p => p.x).ToList();
    }

    private static object? Unique(Evaluator ev, object? v, CallArgs a)
    {
        bool caseSensitive = Py.Truthy(a.Get(0, "case_sensitive", false));
        var attribute = a.Get(1, "attribute");
        var seen = new List<object?>();
        var result = new List<object?>();
        foreach (var x in Py.Iterate(v))
        {
            var key = SortKey(Attribute(x, attribute), caseSensitive);
            if (seen.Any(s => Py.Equal(s, key))) continue;
            seen.Add(key);
            result.Add(x);
        }
        return result;
    }

    private static object? MinMax(object? v, CallArgs a, int sign)
    {
        bool caseSensitive = Py.Truthy(a.Get(0, "case_sensitive", false));
        var attribute = a.Get(1, "attribute");
        object? best = null;
        bool any = false;
        foreach (var x in Py.Iterate(v))
        {
            if (!any || Operators.Order("<", SortKey(Attribute(x, attribute), caseSensitive), SortKey(Attribute(best, attribute), caseSensitive)) * sign > 0)
                best = x;
            any = true;
        }
        return any ? best : new Undefined($"No aggregated item, sequence was empty.");
    }

    private static object? Indent(Evaluator ev, object? v, CallArgs a)
    {
        var width = a.Get(0, "width", 4L);
        string indentation = width is string w ? w : new string(' ', (int)Py.ToLong(width));
        bool first = Py.Truthy(a.Get(1, "first", false)), blank = Py.Truthy(a.Get(2, "blank", false));
        // Mirrors jinja2: a newline is appended before splitlines() so a trailing newline survives.
        var lines = Strings.SplitLines(Py.Str(v) + "\n");
        string rv;
        if (blank)
        {
            rv = string.Join("\n" + indentation, lines);
        }
        else
        {
            rv = lines[0];
            if (lines.Count > 1) rv += "\n" + string.Join("\n", lines.Skip(1).Select(l => l.Length > 0 ? indentation + l : l));
        }
        return first ? indentation + rv : rv;
    }

    private static object? Batch(Evaluator ev, object? v, CallArgs a)
    {
        int size = (int)Py.ToLong(a.Get(0, "linecount"));
        if (size <= 0) throw new TemplateException("batch size must be positive");
        bool fill = a.Has(1, "fill_with");
        var result = new List<object?>();
        List<object?>? current = null;
        foreach (var x in Py.Iterate(v))
        {
            if (current is null || current.Count == size) result.Add(current = []);
            current.Add(x);
        }
        if (fill && current is not null)
            while (current.Count < size) current.Add(a.Get(1, "fill_with"));
        return result;
    }
}
