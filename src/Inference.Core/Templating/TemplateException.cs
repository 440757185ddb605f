namespace Inference.Templating;

/// <summary>What went wrong in a chat template, mirroring the jinja2 exception classes.</summary>
public enum TemplateErrorKind
{
    /// <summary>The template text does not parse (TemplateSyntaxError).</summary>
    Syntax,
    /// <summary>The template called raise_exception(msg) (TemplateError).</summary>
    Raised,
    /// <summary>An undefined value was used in a way that needs a value (UndefinedError).</summary>
    Undefined,
    /// <summary>A sandbox violation such as list.append (SecurityError).</summary>
    Security,
    /// <summary>Any other evaluation error (Python's TypeError, ValueError, ...).</summary>
    Runtime,
}

/// <summary>A chat template failed to parse or render; the message is safe to show to the client.</summary>
public class TemplateException : InferenceException
{
    public TemplateErrorKind Kind { get; }

    /// <summary>1-based template line, when known.</summary>
    public int? Line { get; }

    /// <summary>True when the template itself rejected the input through raise_exception(msg); Message is then msg.</summary>
    public bool RaisedByTemplate => Kind == TemplateErrorKind.Raised;

    /// <summary>The message without the line prefix.</summary>
    public string Detail { get; }

    public TemplateException(string message, TemplateErrorKind kind = TemplateErrorKind.Runtime, int? line = null)
        // raise_exception messages are written for the end user, so they go out unchanged.
        : base(line is null || kind == TemplateErrorKind.Raised ? message : $"line {line}: {message}")
    {
        Kind = kind;
        Line = line;
        Detail = message;
    }

    internal TemplateException WithLine(int line) => Line is null ? new TemplateException(Detail, Kind, line) : this;
}
