using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;

namespace EchoHost.Protocol.Connections;

/// <summary>
/// Runs one <see cref="IConnectionProtocol"/> over one <see cref="ConnectionContext"/>: the read loop,
/// the transport the protocol writes through, one flush per read, and a graceful end (FIN) on end of
/// input, on the protocol's <see cref="IProtocolTransport.Close"/> and on server shutdown.
/// </summary>
public sealed class ProtocolConnection : IProtocolTransport
{
    private readonly ConnectionContext _connection;
    private readonly PipeWriter _output;
    private bool _closeRequested;
    private bool _hasUnflushedOutput;

    public ProtocolConnection(ConnectionContext connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        _connection = connection;
        _output = connection.Transport.Output;
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
    /// Runs the protocol until the connection ends. Returns the error that ended it, or null for an orderly end;
    /// a peer that resets is an orderly end for the server's purposes and is reported, not thrown.
    /// </summary>
    public async Task<Exception?> RunAsync(IConnectionProtocol protocol)
    {
        ArgumentNullException.ThrowIfNull(protocol);
        var input = _connection.Transport.Input;

        // Kestrel asks connections to finish on shutdown; a read that never returns would hold shutdown for
        // the whole host timeout and end in a reset, so shutdown cancels the pending read instead.
        var lifetime = _connection.Features.Get<IConnectionLifetimeNotificationFeature>();
        using var shutdown = lifetime?.ConnectionClosedRequested.Register(
            static state => ((PipeReader)state!).CancelPendingRead(), input);

        Exception? error = null;
        protocol.ConnectionMade(this);
        try
        {
            await PumpAsync(protocol, input);
        }
        catch (Exception ex) when (IsConnectionFailure(ex))
        {
            error = ex;
        }

        protocol.ConnectionLost(error);
        await _output.CompleteAsync();
        await input.CompleteAsync();
        return error;
    }

    private async Task PumpAsync(IConnectionProtocol protocol, PipeReader input)
    {
        while (true)
        {
            var result = await input.ReadAsync();
            var buffer = result.Buffer;
            var endOfInput = result.IsCompleted || result.IsCanceled;

            var consumed = protocol.DataReceived(buffer);
            if (endOfInput && !_closeRequested)
            {
                protocol.EofReceived(buffer.Slice(consumed));
                consumed = buffer.End;
            }

            BytesReceived += buffer.Slice(buffer.Start, consumed).Length;
            input.AdvanceTo(consumed, buffer.End);

            if (_hasUnflushedOutput)
            {
                _hasUnflushedOutput = false;
                var flush = await _output.FlushAsync();
                if (flush.IsCompleted)
                {
                    return;
                }
            }

            if (endOfInput || _closeRequested)
            {
                return;
            }
        }
    }

    private static bool IsConnectionFailure(Exception ex) =>
        ex is ConnectionResetException or ConnectionAbortedException or IOException or OperationCanceledException;
}
