using System.Collections;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Inference.Templating;

// Template values use Python's types: None is null, bool, long (int), double (float), string (str),
// List<object?> (list), PyTuple (tuple), PyDict (dict), plus the jinja2 objects below.

/// <summary>jinja2's default Undefined: prints as "", is falsy and iterates as empty, but fails when used as a value.</summary>
internal sealed class Undefined(string hint, TemplateErrorKind kind = TemplateErrorKind.Undefined)
{
    public string Hint { get; } = hint;

    public TemplateException Error() => new(Hint, kind);

    public static Undefined Name(string name) => new($"'{name}' is undefined");

    public static Undefined Attribute(object? obj, object? name) =>
        new(name is string s ? $"'{Py.ObjectTypeRepr(obj)}' has no attribute {Py.Repr(s)}" : $"'{Py.ObjectTypeRepr(obj)}' has no element {Py.Repr(name)}");
}

internal sealed class PyTuple : List<object?>
{
    public PyTuple() { }

    public PyTuple(IEnumerable<object?> items) : base(items) { }
}

/// <summary>A Python dict: insertion-ordered, with Python key equality (1 == 1.0 == True).</summary>
internal sealed class PyDict : OrderedDictionary<object, object?>
{
    public PyDict() : base(PyKeyComparer.Instance) { }
}

/// <summary>The mutable object namespace() returns; the only thing {% set x.y = ... %} may assign to.</summary>
internal sealed class Namespace
{
    public PyDict Attributes { get; } = new();
}

/// <summary>Positional and keyword arguments of a call.</summary>
internal sealed class CallArgs(List<object?> positional, Dictionary<string, object?> named)
{
    public static readonly CallArgs Empty = new([], []);

    public List<object?> Positional { get; } = positional;

    public Dictionary<string, object?> Named { get; } = named;

    public int Count => Positional.Count + Named.Count;

    /// <summary>The argument at position index or with the given keyword, else the default.</summary>
    public object? Get(int index, string name, object? fallback = null) =>
        index < Positional.Count ? Positional[index] : Named.TryGetValue(name, out var v) ? v : fallback;

    public bool Has(int index, string name) => index < Positional.Count || Named.ContainsKey(name);
}

/// <summary>A callable value: a global such as raise_exception, a macro, or a bound method such as str.split.</summary>
internal sealed class PyCallable(string name, Func<CallArgs, object?> invoke)
{
    public string Name { get; } = name;

    public object? Invoke(CallArgs args) => invoke(args);
}

/// <summary>The special "loop" variable inside a for loop.</summary>
internal sealed class LoopInfo(IReadOnlyList<object?> items, int index0)
{
    public object? Get(string name) => name switch
    {
        "index" => (long)index0 + 1,
        "index0" => (long)index0,
        "revindex" => (long)(items.Count - index0),
        "revindex0" => (long)(items.Count - index0 - 1),
        "first" => index0 == 0,
        "last" => index0 == items.Count - 1,
        "length" => (long)items.Count,
        "depth" => 1L,
        "depth0" => 0L,
        "previtem" => index0 > 0 ? items[index0 - 1] : new Undefined("there is no previous item"),
        "nextitem" => index0 < items.Count - 1 ? items[index0 + 1] : new Undefined("there is no next item"),
        "cycle" => new PyCallable("cycle", a => a.Positional.Count == 0
            ? throw new TemplateException("no items for cycling given")
            : a.Positional[index0 % a.Positional.Count]),
        _ => Undefined.Attribute(this, name),
    };
}

internal sealed class PyKeyComparer : IEqualityComparer<object>
{
    public static readonly PyKeyComparer Instance = new();

    public new bool Equals(object? x, object? y) => Py.Equal(x, y);

    public int GetHashCode(object obj) => obj switch
    {
        string s => StringComparer.Ordinal.GetHashCode(s),
        bool b => (b ? 1.0 : 0.0).GetHashCode(),
        long l => ((double)l).GetHashCode(),
        double d => d.GetHashCode(),
        _ => RuntimeHelpers.GetHashCode(obj),
    };
}

/// <summary>Python semantics for template values: truthiness, equality, str() and repr(), conversions.</summary>
internal static class Py
{
    public static bool Truthy(object? v) => v switch
    {
        null or Undefined => false,
        bool b => b,
        long l => l != 0,
        double d => d != 0,
        string s => s.Length > 0,
        ICollection c => c.Count > 0,
        _ => true,
    };

    public static bool IsNumber(object? v) => v is bool or long or double;

    public static bool IsInteger(object? v) => v is bool or long;

    public static long ToLong(object? v) => v switch
    {
        bool b => b ? 1 : 0,
        long l => l,
        double d => (long)d,
        _ => throw new TemplateException($"expected an integer, got {TypeName(v)}"),
    };

    public static double ToDouble(object? v) => v switch
    {
        bool b => b ? 1 : 0,
        long l => l,
        double d => d,
        _ => throw new TemplateException($"expected a number, got {TypeName(v)}"),
    };

    public static bool Equal(object? a, object? b)
    {
        if (a is null || b is null) return a is null && b is null;
        if (IsNumber(a) && IsNumber(b)) return IsInteger(a) && IsInteger(b) ? ToLong(a) == ToLong(b) : ToDouble(a) == ToDouble(b);
        switch (a, b)
        {
            case (string x, string y): return string.Equals(x, y, StringComparison.Ordinal);
            case (Undefined, Undefined): return true;
            case (List<object?> x, List<object?> y):
                if (x.Count != y.Count || (x is PyTuple) != (y is PyTuple)) return false;
                for (int i = 0; i < x.Count; i++)
                    if (!Equal(x[i], y[i])) return false;
                return true;
            case (PyDict x, PyDict y):
                if (x.Count != y.Count) return false;
                foreach (var (k, v) in x)
                    if (!y.TryGetValue(k, out var other) || !Equal(v, other)) return false;
                return true;
            default: return ReferenceEquals(a, b);
        }
    }

    public static string TypeName(object? v) => v switch
    {
        null => "NoneType",
        bool => "bool",
        long => "int",
        double => "float",
        string => "str",
        PyTuple => "tuple",
        List<object?> => "list",
        PyDict => "dict",
        Namespace => "Namespace",
        PyCallable => "function",
        LoopInfo => "LoopContext",
        Undefined => "Undefined",
        _ => v.GetType().Name,
    };

    /// <summary>jinja2's object_type_repr, used in undefined-attribute messages.</summary>
    public static string ObjectTypeRepr(object? v) => v is null ? "None" : $"{TypeName(v)} object";

    /// <summary>Python str().</summary>
    public static string Str(object? v) => v switch
    {
        string s => s,
        Undefined => "",
        _ => Repr(v),
    };

    /// <summary>Python repr(), which is also what str() prints for containers.</summary>
    public static string Repr(object? v)
    {
        var sb = new StringBuilder();
        AppendRepr(sb, v);
        return sb.ToString();
    }

    private static void AppendRepr(StringBuilder sb, object? v)
    {
        switch (v)
        {
            case null: sb.Append("None"); break;
            case bool b: sb.Append(b ? "True" : "False"); break;
            case long l: sb.Append(l.ToString(CultureInfo.InvariantCulture)); break;
            case double d: sb.Append(FloatRepr(d)); break;
            case string s: AppendStringRepr(sb, s); break;
            case Undefined: break;
            case PyTuple t:
                sb.Append('(');
                for (int i = 0; i < t.Count; i++)
                {
                    if (i > 0) sb.Append(", ");
                    AppendRepr(sb, t[i]);
                }
                sb.Append(t.Count == 1 ? ",)" : ")");
                break;
            case List<object?> list:
                sb.Append('[');
                for (int i = 0; i < list.Count; i++)
                {
                    if (i > 0) sb.Append(", ");
                    AppendRepr(sb, list[i]);
                }
                sb.Append(']');
                break;
            case PyDict dict:
                sb.Append('{');
                bool first = true;
                foreach (var (k, val) in dict)
                {
                    if (!first) sb.Append(", ");
                    first = false;
                    AppendRepr(sb, k);
                    sb.Append(": ");
                    AppendRepr(sb, val);
                }
                sb.Append('}');
                break;
            case Namespace ns: sb.Append("<Namespace ").Append(Repr(ns.Attributes)).Append('>'); break;
            case PyCallable f: sb.Append("<function ").Append(f.Name).Append('>'); break;
            default: sb.Append('<').Append(TypeName(v)).Append(" object>"); break;
        }
    }

    private static void AppendStringRepr(StringBuilder sb, string s)
    {
        char quote = s.Contains('\'') && !s.Contains('"') ? '"' : '\'';
        sb.Append(quote);
        foreach (char c in s)
        {
            switch (c)
            {
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    if (c == quote) sb.Append('\\').Append(c);
                    else if (c < 0x20 || c == 0x7f) sb.Append("\\x").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture));
                    else sb.Append(c);
                    break;
            }
        }
        sb.Append(quote);
    }

    /// <summary>Python float repr: shortest round-trip digits, exponent form below 1e-4 and from 1e16.</summary>
    public static string FloatRepr(double d)
    {
        if (double.IsNaN(d)) return "nan";
        if (double.IsInfinity(d)) return d > 0 ? "inf" : "-inf";
        string r = Math.Abs(d).ToString("R", CultureInfo.InvariantCulture);
        int exp = 0;
        int e = r.IndexOf('E');
        if (e >= 0)
        {
            exp = int.Parse(r.AsSpan(e + 1), CultureInfo.InvariantCulture);
            r = r[..e];
        }
        int dot = r.IndexOf('.');
        int intLen = dot < 0 ? r.Length : dot;
        string digits = r.Replace(".", "");
        while (digits.Length > 1 && digits[0] == '0')
        {
            digits = digits[1..];
            intLen--;
        }
        digits = digits.TrimEnd('0');
        if (digits.Length == 0)
        {
            digits = "0";
            intLen = 1;
        }
        int decpt = intLen + exp; // value = 0.DIGITS * 10^decpt
        string sign = double.IsNegative(d) ? "-" : "";
        int sci = decpt - 1;
        if (sci < -4 || sci >= 16)
        {
            string mantissa = digits.Length > 1 ? digits[0] + "." + digits[1..] : digits;
            return $"{sign}{mantissa}e{(sci < 0 ? '-' : '+')}{Math.Abs(sci):00}";
        }
        if (decpt <= 0) return $"{sign}0.{new string('0', -decpt)}{digits}";
        if (decpt >= digits.Length) return $"{sign}{digits}{new string('0', decpt - digits.Length)}.0";
        return $"{sign}{digits[..decpt]}.{digits[decpt..]}";
    }

    /// <summary>len(): strings count code points, as Python does.</summary>
    public static long Length(object? v) => v switch
    {
        string s => CodePoints(s).Count,
        ICollection c => c.Count,
        Undefined => 0,
        Namespace ns => ns.Attributes.Count,
        _ => throw new TemplateException($"object of type '{TypeName(v)}' has no len()"),
    };

    /// <summary>A string split into code points, so that indexing and iteration match Python.</summary>
    public static List<string> CodePoints(string s)
    {
        var result = new List<string>(s.Length);
        for (int i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                result.Add(s.Substring(i, 2));
                i++;
            }
            else
            {
                result.Add(s[i].ToString());
            }
        }
        return result;
    }

    /// <summary>Python iter(): dicts iterate their keys, strings their characters, undefined nothing.</summary>
    public static List<object?> Iterate(object? v) => v switch
    {
        List<object?> list => list,
        PyDict d => [.. d.Keys],
        string s => [.. CodePoints(s)],
        Undefined => [],
        _ => throw new TemplateException($"'{TypeName(v)}' object is not iterable"),
    };

    public static bool IsIterable(object? v) => v is List<object?> or PyDict or string or Undefined;

    // ---- conversions from the caller's data ----

    public static object? FromJson(JsonNode? node)
    {
        switch (node)
        {
            case null: return null;
            case JsonObject obj:
                var dict = new PyDict();
                foreach (var (k, v) in obj) dict[k] = FromJson(v);
                return dict;
            case JsonArray arr:
                var list = new List<object?>(arr.Count);
                foreach (var item in arr) list.Add(FromJson(item));
                return list;
            default:
                var value = node.AsValue();
                switch (value.GetValueKind())
                {
                    case JsonValueKind.String: return value.GetValue<string>();
                    case JsonValueKind.True: return true;
                    case JsonValueKind.False: return false;
                    case JsonValueKind.Null: return null;
                    case JsonValueKind.Number:
                        // Like json.loads: integers stay int, anything with a fraction or exponent is a float.
                        string raw = value.ToJsonString();
                        if (raw.IndexOfAny(['.', 'e', 'E']) < 0 && long.TryParse(raw, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long l))
                            return l;
                        return double.Parse(raw, NumberStyles.Float, CultureInfo.InvariantCulture);
                    default: throw new ArgumentException($"unsupported JSON value {value.ToJsonString()}");
                }
        }
    }

    /// <summary>Converts a CLR value from the caller (JSON nodes, primitives, dictionaries, sequences) to a template value.</summary>
    public static object? FromClr(object? v) => v switch
    {
        null => null,
        Undefined or PyDict or List<object?> or Namespace or PyCallable or string or bool or long or double => v,
        JsonNode node => FromJson(node),
        JsonElement el => FromJson(JsonSerializer.SerializeToNode(el)),
        int or short or sbyte or byte or ushort or uint => Convert.ToInt64(v, CultureInfo.InvariantCulture),
        ulong u => u <= long.MaxValue ? (long)u : (double)u,
        float or decimal => Convert.ToDouble(v, CultureInfo.InvariantCulture),
        char c => c.ToString(),
        IDictionary dict => FromDictionary(dict),
        IEnumerable seq => seq.Cast<object?>().Select(FromClr).ToList(),
        _ => throw new ArgumentException($"cannot pass a {v.GetType().Name} to a template"),
    };

    private static PyDict FromDictionary(IDictionary dict)
    {
        var result = new PyDict();
        foreach (DictionaryEntry e in dict) result[FromClr(e.Key) ?? throw new ArgumentException("null dictionary key")] = FromClr(e.Value);
        return result;
    }
}
