namespace EchoHost.Echo;

public enum MessageFraming
{
    /// <summary>One message per LF-terminated line, bounded by <see cref="EchoOptions.MaxLineBytes"/>.</summary>
    Line,

    /// <summary>One message per read.</summary>
    Chunk,
}
