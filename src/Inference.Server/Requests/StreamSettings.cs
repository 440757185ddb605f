namespace Inference.Server.Requests;

/// <summary>stream and stream_options.include_usage of a request.</summary>
public readonly record struct StreamSettings(bool Stream, bool IncludeUsage)
{
    public static StreamSettings Read(RequestReader r)
    {
        bool stream = r.Bool("stream") ?? false;
        bool usage = false;
        if (r.Get("stream_options") is { } o)
        {
            var options = new RequestReader(o.ValueKind == System.Text.Json.JsonValueKind.Object ? o
                : throw RequestReader.WrongType("stream_options", "an object", o));
            usage = options.Bool("include_usage") ?? false;
            if (!stream) throw Errors.OpenAiException.BadRequest("'stream_options' is only allowed when 'stream' is true", "stream_options");
        }
        return new StreamSettings(stream, usage);
    }
}
