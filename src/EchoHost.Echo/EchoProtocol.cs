using System.Buffers;
using EchoHost.Connections.Diagnostics;
using EchoHost.Connections.Protocols;
using Microsoft.Extensions.Logging;

namespace EchoHost.Echo;

/// <summary>
/// The chapter's echo protocol: log every message, reply with the prefix and the message's exact bytes
/// (or stay silent in <see cref="EchoMode.Receive"/>), and optionally close after the first message.
/// </summary>
public sealed class EchoProtocol(EchoBehavior behavior, ConnectionMetrics? metrics, ILogger<EchoProtocol> logger) : IConnectionProtocol
{
    private IProtocolTransport? _transport;
    private bool _closing;

    public void ConnectionMade(IProtocolTransport transport) => _transport = transport;

    public SequencePosition DataReceived(in ReadOnlySequence<byte> data)
    {
        var buffer = data;
        var messages = 0;
        while (!_closing && !buffer.IsEmpty && behavior.Framer.TryReadMessage(ref buffer, out var message))
        {
            OnMessage(message);
            messages++;
        }

        metrics?.MessagesReceived(messages);

        // Once closing, whatever else arrived is discarded rather than left for a read that will not come.
        return _closing ? data.End : buffer.Start;
    }

    public void EofReceived(in ReadOnlySequence<byte> unconsumed)
    {
        if (!_closing && !unconsumed.IsEmpty)
        {
            OnMessage(unconsumed);
            metrics?.MessagesReceived(1);
        }
    }

    public void ConnectionLost(Exception? exception) => _transport = null;

    private void OnMessage(in ReadOnlySequence<byte> message)
    {
        EchoProtocolLog.DataReceived(logger, message);

        var transport = _transport ?? throw new InvalidOperationException("DataReceived before ConnectionMade.");
        if (behavior.Mode == EchoMode.Echo)
        {
            transport.Write(behavior.ReplyPrefix.Span);
            transport.Write(message);
        }

        if (behavior.CloseAfterReply)
        {
            _closing = true;
            transport.Close();
        }
    }
}
