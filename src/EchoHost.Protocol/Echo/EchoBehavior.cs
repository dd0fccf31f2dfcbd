using System.Text;
using EchoHost.Protocol.Framing;

namespace EchoHost.Protocol.Echo;

/// <summary>
/// What every echo connection shares, worked out once from <see cref="EchoOptions"/>: the framer (stateless),
/// the prefix as bytes, the mode and the idle timeout. Connections then allocate nothing per message.
/// </summary>
public sealed class EchoBehavior
{
    public EchoBehavior(EchoOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Mode = options.Mode;
        CloseAfterReply = options.CloseAfterReply;
        IdleTimeout = options.IdleTimeout;
        ReplyPrefix = Encoding.UTF8.GetBytes(options.ReplyPrefix);
        Framer = options.Framing == MessageFraming.Line ? new LineFramer(options.MaxLineBytes) : ChunkFramer.Instance;
    }

    public EchoMode Mode { get; }

    public bool CloseAfterReply { get; }

    public ReadOnlyMemory<byte> ReplyPrefix { get; }

    public IMessageFramer Framer { get; }

    /// <summary>How long a connection may send nothing before it is closed; zero for no limit.</summary>
    public TimeSpan IdleTimeout { get; }
}
