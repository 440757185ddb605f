using System.Globalization;
using System.Text;

namespace Inference.Templating;

/// <summary>Python's json.dumps, which transformers installs as the tojson filter (no HTML escaping, keys in insertion order).</summary>
internal static class PyJson
{
    public static string Dumps(object? value, int? indent = null, bool ensureAscii = false, (string Item, string Key)? separators = null, bool sortKeys = false)
    {
        // json.dumps drops the space after "," when indenting, so lines do not end in a space.
        var seps = separators ?? (indent is null ? (", ", ": ") : (",", ": "));
        var sb = new StringBuilder();
        Write(sb, value, indent, 0, ensureAscii, seps, sortKeys);
        return sb.ToString();
    }

    private static void Write(StringBuilder sb, object? v, int? indent, int level, bool ascii, (string Item, string Key) seps, bool sortKeys)
    {
        switch (v)
        {
            case null: sb.Append("null"); break;
            case bool b: sb.Append(b ? "true" : "false"); break;
            case long l: sb.Append(l.ToString(CultureInfo.InvariantCulture)); break;
            case double d: sb.Append(double.IsNaN(d) ? "NaN" : double.IsInfinity(d) ? (d > 0 ? "Infinity" : "-Infinity") : Py.FloatRepr(d)); break;
            case string s: WriteString(sb, s, ascii); break;
            case List<object?> list:
                if (list.Count == 0)
                {
                    sb.Append("[]");
                    break;
                }
                sb.Append('[');
                for (int i = 0; i < list.Count; i++)
                {
                    if (i > 0) sb.Append(seps.Item);
                    NewLine(sb, indent, level + 1);
                    Write(sb, list[i], indent, level + 1, ascii, seps, sortKeys);
                }
                NewLine(sb, indent, level);
                sb.Append(']');
                break;
            case PyDict dict:
                if (dict.Count == 0)
                {
                    sb.Append("{}");
                    break;
                }
                IEnumerable<KeyValuePair<object, object?>> pairs = dict;
                if (sortKeys) pairs = dict.OrderBy(p => KeyString(p.Key), StringComparer.Ordinal);
                sb.Append('{');
                bool first = true;
                foreach (var (k, val) in pairs)
                {
                    if (!first) sb.Append(seps.Item);
                    first = false;
                    NewLine(sb, indent, level + 1);
                    WriteString(sb, KeyString(k), ascii);
                    sb.Append(seps.Key);
                    Write(sb, val, indent, level + 1, ascii, seps, sortKeys);
                }
                NewLine(sb, indent, level);
                sb.Append('}');
                break;
            case Undefined u: throw u.Error();
            default: throw new TemplateException($"Object of type {Py.TypeName(v)} is not JSON serializable");
        }
    }

    private static void NewLine(StringBuilder sb, int? indent, int level)
    {
        if (indent is int n) sb.Append('\n').Append(' ', n * level);
    }

    private static string KeyString(object key) => key switch
    {
        string s => s,
        bool b => b ? "true" : "false",
        long or double => Py.Str(key),
        _ => throw new TemplateException($"keys must be str, int, float, bool or None, not {Py.TypeName(key)}"),
    };

    private static void WriteString(StringBuilder sb, string s, bool ascii)
    {
        sb.Append('"');
        foreach (char c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                default:
                    // With ensure_ascii every non-ASCII UTF-16 unit is escaped, which writes astral characters as surrogate pairs like Python.
                    if (c < 0x20 || (ascii && c > 0x7e))
                        sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else
                        sb.Append(c);
                    break;
            }
        }
        sb.Append('"');
    }
}
