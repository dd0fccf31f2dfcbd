using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;

namespace EchoHost.Protocol.Connections;

/// <summary>
/// Runs one <see cref="IConnectionProtocol"/> over one <see cref="ConnectionContext"/>: the read loop, the
/// transport the protocol writes through, one flush per read, the idle timeout, and a graceful end (FIN) on
/// end of input, on the protocol's <see cref="IProtocolTransport.Close"/>, on idleness and on server shutdown.
/// </summary>
public sealed class ProtocolConnection : IProtocolTransport
{
    private readonly ConnectionContext _connection;
    private readonly PipeReader _input;
    private readonly PipeWriter _output;
    private readonly long _idleTimeoutMilliseconds;
    private long _lastActivity;
    private volatile bool _shutdownRequested;
    private volatile bool _ended;
    private bool _closeRequested;
    private bool _hasUnflushedOutput;

    /// <param name="connection">The connection to run.</param>
    /// <param name="idleTimeout">How long the peer may send nothing; <see cref="TimeSpan.Zero"/> for no limit.</param>
    public ProtocolConnection(ConnectionContext connection, TimeSpan idleTimeout)
    {
        ArgumentNullException.ThrowIfNull(connection);
        _connection = connection;
        _input = connection.Transport.Input;
        _output = connection.Transport.Output;
        _idleTimeoutMilliseconds = (long)idleTimeout.TotalMilliseconds;
    }

    public EndPoint? RemoteEndPoint => _connection.RemoteEndPoint;

    /// <summary>Bytes read from the peer, including any discarded after a close.</summary>
    public long BytesReceived { get; private set; }

    /// <summary>Bytes the protocol wrote.</summary>
    public long BytesSent { get; private set; }

    public void Write(ReadOnlySpan<byte> data)
    {
        _output.Write(data);
        BytesSent += data.Length;
        _hasUnflushedOutput |= !data.IsEmpty;
    }

    public void Write(in ReadOnlySequence<byte> data)
    {
        foreach (var segment in data)
        {
            Write(segment.Span);
        }
    }

    public void Close() => _closeRequested = true;

    /// <summary>
    /// Runs the protocol until the connection ends and says why it ended. A reset or abort is reported in
    /// the outcome, never thrown: for a server that is a peer leaving, not a fault.
    /// </summary>
    public async Task<ConnectionOutcome> RunAsync(IConnectionProtocol protocol)
    {
        ArgumentNullException.ThrowIfNull(protocol);

        // Kestrel asks connections to finish on shutdown; a read that never returns would hold shutdown for
        // the host's whole timeout and end in a reset, so the request cancels the pending read instead.
        var lifetime = _connection.Features.Get<IConnectionLifetimeNotificationFeature>();
        using var shutdown = lifetime?.ConnectionClosedRequested.Register(
            static state => ((ProtocolConnection)state!).RequestShutdown(), this);

        // Idleness is checked on Kestrel's once-a-second heartbeat, shared by all connections, rather than
        // with a timer per connection.
        if (_idleTimeoutMilliseconds > 0)
        {
            _connection.Features.Get<IConnectionHeartbeatFeature>()?.OnHeartbeat(
                static state => ((ProtocolConnection)state).OnHeartbeat(), this);
        }

        ConnectionOutcome outcome;
        protocol.ConnectionMade(this);
        try
        {
            outcome = new(await PumpAsync(protocol), null);
        }
        catch (Exception ex) when (IsConnectionFailure(ex))
        {
            outcome = new(ConnectionEndReason.Failed, ex);
        }

        _ended = true;
        protocol.ConnectionLost(outcome.Error);
        await _output.CompleteAsync();
        await _input.CompleteAsync();
        return outcome;
    }

    private async Task<ConnectionEndReason> PumpAsync(IConnectionProtocol protocol)
    {
        MarkActivity();
        while (true)
        {
            var result = await _input.ReadAsync();
            var buffer = result.Buffer;
            ConnectionEndReason? end = result switch
            {
                { IsCompleted: true } => ConnectionEndReason.PeerClosed,
                { IsCanceled: true } when _shutdownRequested => ConnectionEndReason.ServerShutdown,
                { IsCanceled: true } when IsIdle() => ConnectionEndReason.IdleTimeout,
                _ => null,
            };
            MarkActivity();

            var consumed = protocol.DataReceived(buffer);
            if (end is not null && !_closeRequested)
            {
                protocol.EofReceived(buffer.Slice(consumed));
                consumed = buffer.End;
            }

            BytesReceived += buffer.Slice(buffer.Start, consumed).Length;
            _input.AdvanceTo(consumed, buffer.End);

            if (_hasUnflushedOutput)
            {
                _hasUnflushedOutput = false;

                // Awaiting the flush is the back-pressure: while the peer does not read, this loop does not
                // read either, and Kestrel stops reading the socket once its input buffer is full.
                var flush = await _output.FlushAsync();
                MarkActivity();
                if (flush.IsCompleted)
                {
                    return ConnectionEndReason.PeerClosed;
                }
            }

            if (_closeRequested)
            {
                return ConnectionEndReason.ProtocolClosed;
            }

            if (end is not null)
            {
                return end.Value;
            }
        }
    }

    private void RequestShutdown()
    {
        _shutdownRequested = true;
        _input.CancelPendingRead();
    }

    private void OnHeartbeat()
    {
        if (!_ended && IsIdle())
        {
            _input.CancelPendingRead();
        }
    }

    private void MarkActivity() => Volatile.Write(ref _lastActivity, Environment.TickCount64);

    private bool IsIdle() =>
        _idleTimeoutMilliseconds > 0 && Environment.TickCount64 - Volatile.Read(ref _lastActivity) >= _idleTimeoutMilliseconds;

    private static bool IsConnectionFailure(Exception ex) =>
        ex is ConnectionResetException or ConnectionAbortedException or IOException or OperationCanceledException;
}
