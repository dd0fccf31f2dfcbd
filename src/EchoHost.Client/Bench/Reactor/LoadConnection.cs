using System.Net.Sockets;

namespace EchoHost.Client.Bench.Reactor;

/// <summary>
/// One connection of a reactor: what is queued to send, the reply being received, and when each request in flight
/// was (or, at a fixed rate, should have been) sent. Buffers are allocated once; a request allocates nothing.
/// </summary>
internal sealed class LoadConnection(Socket socket, byte[][] messages, int replyBytes, int maxInFlight)
{
    private readonly int _messageBytes = messages[0].Length;
    private readonly byte[] _outgoing = new byte[messages[0].Length * (maxInFlight + 1)];
    private readonly long[] _sentAt = new long[maxInFlight];
    private int _sendStart;
    private int _sendEnd;

    public SafeSocketHandle Handle { get; } = socket.SafeHandle;

    /// <summary>Its place in its reactor's list, which epoll hands back with each event.</summary>
    public int Index { get; set; }

    public byte[] Reply { get; } = new byte[replyBytes];

    public int ReplyReceived { get; set; }

    public long NextToSend { get; private set; }

    public long NextToReceive { get; private set; }

    public int InFlight => (int)(NextToSend - NextToReceive);

    public bool CanSendMore => InFlight < _sentAt.Length;

    public bool WaitsToWrite { get; set; }

    public bool Closed { get; set; }

    /// <summary>At a fixed rate: when this connection's next request is due (a Stopwatch timestamp).</summary>
    public long NextDue { get; set; }

    public ReadOnlySpan<byte> Unsent => _outgoing.AsSpan(_sendStart, _sendEnd - _sendStart);

    /// <summary>Queues the next message, stamped with when it was meant to go.</summary>
    public void Queue(long intendedTimestamp)
    {
        if (_outgoing.Length - _sendEnd < _messageBytes)
        {
            Unsent.CopyTo(_outgoing);
            (_sendStart, _sendEnd) = (0, _sendEnd - _sendStart);
        }

        messages[NextToSend % messages.Length].CopyTo(_outgoing, _sendEnd);
        _sendEnd += _messageBytes;
        _sentAt[NextToSend % _sentAt.Length] = intendedTimestamp;
        NextToSend++;
    }

    public void Sent(int bytes)
    {
        _sendStart += bytes;
        if (_sendStart == _sendEnd)
        {
            (_sendStart, _sendEnd) = (0, 0);
        }
    }

    /// <summary>The reply in <see cref="Reply"/> is complete: returns its sequence number and when its request was meant to go.</summary>
    public (long Sequence, long IntendedTimestamp) Received()
    {
        var sequence = NextToReceive++;
        ReplyReceived = 0;
        return (sequence, _sentAt[sequence % _sentAt.Length]);
    }
}
