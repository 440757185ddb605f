using System.Globalization;
using System.Text;

namespace Inference.Templating;

/// <summary>The globals every template sees: jinja2's namespace/range/dict and transformers' raise_exception/strftime_now.</summary>
internal static class Builtins
{
    public static readonly IReadOnlyDictionary<string, PyCallable> Globals = new Dictionary<string, PyCallable>
    {
        ["raise_exception"] = new("raise_exception", a => throw new TemplateException(Py.Str(a.Get(0, "message")), TemplateErrorKind.Raised)),
        ["strftime_now"] = new("strftime_now", a => Strftime(DateTime.Now, Py.Str(a.Get(0, "format")))),
        ["namespace"] = new("namespace", NewNamespace),
        ["range"] = new("range", Range),
        ["dict"] = new("dict", a =>
        {
            var d = new PyDict();
            foreach (var (k, v) in a.Named) d[k] = v;
            return d;
        }),
    };

    private static Namespace NewNamespace(CallArgs a)
    {
        var ns = new Namespace();
        foreach (var arg in a.Positional)
        {
            if (arg is not PyDict d) throw new TemplateException("namespace() takes only a mapping as positional argument");
            foreach (var (k, v) in d) ns.Attributes[k] = v;
        }
        foreach (var (k, v) in a.Named) ns.Attributes[k] = v;
        return ns;
    }

    private static List<object?> Range(CallArgs a)
    {
        var p = a.Positional.Select(Py.ToLong).ToArray();
        var (start, stop, step) = p.Length switch
        {
            1 => (0L, p[0], 1L),
            2 => (p[0], p[1], 1L),
            3 => (p[0], p[1], p[2]),
            _ => throw new TemplateException($"range expected 1 to 3 arguments, got {p.Length}"),
        };
        if (step == 0) throw new TemplateException("range() arg 3 must not be zero");
        var result = new List<object?>();
        for (long i = start; step > 0 ? i < stop : i > stop; i += step)
        {
            if (result.Count >= 100_000) throw new TemplateException("range too big");
            result.Add(i);
        }
        return result;
    }

    /// <summary>Python's datetime.strftime for the directives templates use, with C-locale names.</summary>
    public static string Strftime(DateTime t, string format)
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        for (int i = 0; i < format.Length; i++)
        {
            if (format[i] != '%' || i + 1 >= format.Length)
            {
                sb.Append(format[i]);
                continue;
            }
            char c = format[++i];
            sb.Append(c switch
            {
                'a' => t.ToString("ddd", inv),
                'A' => t.ToString("dddd", inv),
                'b' or 'h' => t.ToString("MMM", inv),
                'B' => t.ToString("MMMM", inv),
                'd' => t.ToString("dd", inv),
                'e' => t.Day.ToString(inv).PadLeft(2),
                'm' => t.ToString("MM", inv),
                'y' => t.ToString("yy", inv),
                'Y' => t.Year.ToString(inv),
                'H' => t.ToString("HH", inv),
                'I' => t.ToString("hh", inv),
                'p' => t.Hour < 12 ? "AM" : "PM",
                'M' => t.ToString("mm", inv),
                'S' => t.ToString("ss", inv),
                'f' => t.ToString("ffffff", inv),
                'j' => t.DayOfYear.ToString("000", inv),
                'w' => ((int)t.DayOfWeek).ToString(inv),
                'u' => (t.DayOfWeek == DayOfWeek.Sunday ? 7 : (int)t.DayOfWeek).ToString(inv),
                'z' => t.ToString("zzz", inv).Replace(":", ""),
                'Z' => TimeZoneInfo.Local.IsDaylightSavingTime(t) ? TimeZoneInfo.Local.DaylightName : TimeZoneInfo.Local.StandardName,
                'F' => t.ToString("yyyy-MM-dd", inv),
                'T' => t.ToString("HH:mm:ss", inv),
                'D' => t.ToString("MM/dd/yy", inv),
                '%' => "%",
                _ => "%" + c,
            });
        }
        return sb.ToString();
    }
}
