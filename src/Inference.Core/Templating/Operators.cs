using System.Text;

namespace Inference.Templating;

/// <summary>Python's arithmetic, concatenation, comparison and membership operators on template values.</summary>
internal static class Operators
{
    public static object? Unary(string op, object? v)
    {
        if (v is Undefined u) throw u.Error();
        return (op, v) switch
        {
            ("-", bool or long) => (object)-Py.ToLong(v),
            ("-", double d) => -d,
            ("+", bool or long) => Py.ToLong(v),
            ("+", double d) => d,
            _ => throw new TemplateException($"bad operand type for unary {op}: '{Py.TypeName(v)}'"),
        };
    }

    public static object? Binary(string op, object? a, object? b)
    {
        if (op == "~") return Py.Str(a) + Py.Str(b);
        if (a is Undefined ua) throw ua.Error();
        if (b is Undefined ub) throw ub.Error();
        if (Py.IsNumber(a) && Py.IsNumber(b)) return Arithmetic(op, a, b);
        switch (op, a, b)
        {
            case ("+", string x, string y): return x + y;
            case ("+", PyTuple x, PyTuple y): return new PyTuple(x.Concat(y));
            case ("+", List<object?> x, List<object?> y) when x is not PyTuple && y is not PyTuple: return x.Concat(y).ToList();
            case ("*", string s, bool or long): return Repeat(s, Py.ToLong(b));
            case ("*", bool or long, string s): return Repeat(s, Py.ToLong(a));
            case ("*", List<object?> l, bool or long): return Enumerable.Range(0, (int)Math.Max(0, Py.ToLong(b))).SelectMany(_ => l).ToList();
            case ("%", string fmt, _): return PercentFormat(fmt, b);
        }
        if (op == "+" && a is string)
            throw new TemplateException($"can only concatenate str (not \"{Py.TypeName(b)}\") to str");
        throw new TemplateException($"unsupported operand type(s) for {op}: '{Py.TypeName(a)}' and '{Py.TypeName(b)}'");
    }

    private static string Repeat(string s, long n) => n <= 0 ? "" : new StringBuilder().Insert(0, s, (int)n).ToString();

    private static object Arithmetic(string op, object? a, object? b)
    {
        if (Py.IsInteger(a) && Py.IsInteger(b) && op != "/")
        {
            long x = Py.ToLong(a), y = Py.ToLong(b);
            switch (op)
            {
                case "+": return x + y;
                case "-": return x - y;
                case "*": return x * y;
                case "**" when y >= 0: return (long)Math.Pow(x, y);
                case "**": return Math.Pow(x, y);
            }
            if (y == 0) throw new TemplateException("integer division or modulo by zero");
            long q = x / y;
            if ((x % y != 0) && ((x < 0) != (y < 0))) q--; // Python floors toward negative infinity.
            return op == "//" ? q : x - q * y;
        }
        double p = Py.ToDouble(a), r = Py.ToDouble(b);
        if (r == 0 && op is "/" or "//" or "%") throw new TemplateException("float division by zero");
        return op switch
        {
            "+" => p + r,
            "-" => p - r,
            "*" => p * r,
            "/" => p / r,
            "//" => Math.Floor(p / r),
            "%" => p - Math.Floor(p / r) * r,
            "**" => Math.Pow(p, r),
            _ => throw new TemplateException($"unknown operator {op}"),
        };
    }

    // printf-style "%s" formatting, enough for the templates that build strings with it.
    private static string PercentFormat(string fmt, object? args)
    {
        var values = args is PyTuple t ? t : [args];
        var sb = new StringBuilder();
        int next = 0;
        for (int i = 0; i < fmt.Length; i++)
        {
            if (fmt[i] != '%' || i + 1 >= fmt.Length)
            {
                sb.Append(fmt[i]);
                continue;
            }
            char spec = fmt[++i];
            if (spec == '%')
            {
                sb.Append('%');
                continue;
            }
            if (next >= values.Count) throw new TemplateException("not enough arguments for format string");
            var v = values[next++];
            sb.Append(spec switch
            {
                's' => Py.Str(v),
                'r' => Py.Repr(v),
                'd' or 'i' => Py.ToLong(v).ToString(System.Globalization.CultureInfo.InvariantCulture),
                'f' => Py.ToDouble(v).ToString("F6", System.Globalization.CultureInfo.InvariantCulture),
                _ => throw new TemplateException($"unsupported format character '{spec}'"),
            });
        }
        if (next < values.Count) throw new TemplateException("not all arguments converted during string formatting");
        return sb.ToString();
    }

    public static bool Compare(string op, object? a, object? b) => op switch
    {
        "==" => Py.Equal(a, b),
        "!=" => !Py.Equal(a, b),
        "in" => Contains(b, a),
        "not in" => !Contains(b, a),
        "<" => Order(op, a, b) < 0,
        "<=" => Order(op, a, b) <= 0,
        ">" => Order(op, a, b) > 0,
        ">=" => Order(op, a, b) >= 0,
        _ => throw new TemplateException($"unknown comparison {op}"),
    };

    public static bool Contains(object? container, object? item) => container switch
    {
        string s when item is string sub => s.Contains(sub, StringComparison.Ordinal),
        string => throw new TemplateException($"'in <string>' requires string as left operand, not {Py.TypeName(item)}"),
        List<object?> list => list.Any(x => Py.Equal(x, item)),
        PyDict d => item is not null && d.ContainsKey(item),
        Namespace ns => item is not null && ns.Attributes.ContainsKey(item),
        Undefined => false,
        _ => throw new TemplateException($"argument of type '{Py.TypeName(container)}' is not iterable"),
    };

    /// <summary>Python ordering; mixed types raise like Python 3.</summary>
    public static int Order(string op, object? a, object? b)
    {
        if (a is Undefined ua) throw ua.Error();
        if (b is Undefined ub) throw ub.Error();
        if (Py.IsNumber(a) && Py.IsNumber(b))
            return Py.IsInteger(a) && Py.IsInteger(b) ? Py.ToLong(a).CompareTo(Py.ToLong(b)) : Py.ToDouble(a).CompareTo(Py.ToDouble(b));
        if (a is string x && b is string y) return string.CompareOrdinal(x, y);
        if (a is List<object?> l && b is List<object?> m)
        {
            for (int i = 0; i < Math.Min(l.Count, m.Count); i++)
                if (!Py.Equal(l[i], m[i])) return Order(op, l[i], m[i]);
            return l.Count.CompareTo(m.Count);
        }
        throw new TemplateException($"'{op}' not supported between instances of '{Py.TypeName(a)}' and '{Py.TypeName(b)}'");
    }
}
