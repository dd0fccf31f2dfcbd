using System.Buffers;
using EchoHost.Connections.Protocols;

namespace EchoHost.Tests.Support;

/// <summary>
/// Feeds a protocol the way its runner (`ProtocolConnection`) does: bytes it did not consume are handed back,
/// in front of the next piece, as a multi-segment buffer; the end of input hands over what is left.
/// </summary>
internal sealed class ProtocolDriver(IConnectionProtocol protocol)
{
    private byte[] _pending = [];

    public RecordingTransport Transport { get; } = new();

    public ProtocolDriver Connect()
    {
        protocol.ConnectionMade(Transport);
        return this;
    }

    public ProtocolDriver Receive(byte[] piece)
    {
        var buffer = Sequences.Of(_pending, piece);
        var consumed = protocol.DataReceived(buffer);
        _pending = buffer.Slice(consumed).ToArray();
        return this;
    }

    public ProtocolDriver EndOfInput()
    {
        protocol.EofReceived(new ReadOnlySequence<byte>(_pending));
        _pending = [];
        protocol.ConnectionLost(null);
        return this;
    }

    public int PendingBytes => _pending.Length;
}
