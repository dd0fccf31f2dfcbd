using System.Text;
using EchoHost.Echo.Framing;

namespace EchoHost.Echo;

/// <summary>
/// What every echo connection shares, worked out once from <see cref="EchoOptions"/>: the framer (stateless),
/// the prefix as bytes, and the mode. Connections then allocate nothing per message.
/// </summary>
public sealed class EchoBehavior
{
    public EchoBehavior(EchoOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Mode = options.Mode;
        CloseAfterReply = options.CloseAfterReply;
        ReplyPrefix = Encoding.UTF8.GetBytes(options.ReplyPrefix);
        Framer = options.Framing == MessageFraming.Line ? new LineFramer(options.MaxLineBytes) : ChunkFramer.Instance;
    }

    public EchoMode Mode { get; }

    public bool CloseAfterReply { get; }

    public ReadOnlyMemory<byte> ReplyPrefix { get; }

    public IMessageFramer Framer { get; }
}
