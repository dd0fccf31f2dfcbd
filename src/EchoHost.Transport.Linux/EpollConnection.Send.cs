using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using EchoHost.Shared;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace EchoHost.Transport.Linux;

/// <summary>
/// The send side, with nothing suspended while there is nothing to send: a read of the output pipe that would
/// wait leaves a callback on the pipe instead of an awaiting loop. The protocol's flush runs that callback inline
/// and it sends at once; only when the socket's buffer is full is the rest left to the reactor, which sends it
/// when epoll reports the socket writable. Whatever ends it, the output's reader is completed and
/// <see cref="SendEndedAsync"/> completes.
/// </summary>
internal sealed partial class EpollConnection
{
    private readonly Action _onOutput;
    private ValueTaskAwaiter<ReadResult> _outputRead;
    private ReadOnlySequence<byte> _unsent;
    private bool _unsentIsLast;
    private TaskCompletionSource? _sendEndedWaiter;

    // Reads the output until a read would wait, sending what each read returns.
    [SuppressMessage("Reliability", "CA2012", Justification = "Each read is consumed once: GetResult in SendRead, after it completed.")]
    private void ReadOutput()
    {
        try
        {
            while (true)
            {
                _outputRead = _output.Reader.ReadAsync().GetAwaiter();
                if (!_outputRead.IsCompleted)
                {
                    _outputRead.UnsafeOnCompleted(_onOutput);
                    return;
                }

                if (!SendRead())
                {
                    return;
                }
            }
        }
        catch (Exception ex)
        {
            FailSending(ex);
        }
    }

    private void OnOutput() => SendThenRead(afterRead: true);

    // One sending step, after a completed read or after the socket became writable; while the socket takes
    // everything, reading the output goes on.
    private void SendThenRead(bool afterRead)
    {
        bool more;
        try
        {
            more = afterRead ? SendRead() : SendUnsent();
        }
        catch (Exception ex)
        {
            FailSending(ex);
            return;
        }

        if (more)
        {
            ReadOutput();
        }
    }

    // Sends what the completed read returned; false when sending stops here: the socket is full, or the output ended.
    private bool SendRead()
    {
        var result = _outputRead.GetResult();
        _outputRead = default;
        if (IsAborted)
        {
            EndSending(null);
            return false;
        }

        _unsent = result.Buffer;
        _unsentIsLast = result.IsCompleted;
        return SendUnsent();
    }

    private bool SendUnsent()
    {
        while (!_unsent.IsEmpty)
        {
            var segment = _unsent.FirstSpan;
            if (segment.IsEmpty)
            {
                var next = _unsent.Start;
                _unsent.TryGet(ref next, out _);
                _unsent = _unsent.Slice(next);
                continue;
            }

            var sent = LinuxCalls.Send(_handle, segment);
            if (sent > 0)
            {
                _unsent = _unsent.Slice(sent);
            }
            else if (sent == -LinuxCalls.WouldBlock)
            {
                if (!WaitWritable())
                {
                    EndSending(null);
                }

                return false;
            }
            else if (sent != -LinuxCalls.Interrupted)
            {
                Abort(new ConnectionAbortedException($"The connection was reset while sending (errno {-sent})."));
                EndSending(null);
                return false;
            }
        }

        _output.Reader.AdvanceTo(_unsent.End);
        if (!_unsentIsLast)
        {
            return true;
        }

        // Everything the protocol wrote is out: a FIN follows it.
        lock (_gate)
        {
            if ((_state & (ConnectionState.Aborted | ConnectionState.Closed)) == 0)
            {
                ShutdownUnlessClosed(LinuxCalls.ShutdownWrite);
            }
        }

        EndSending(null);
        return false;
    }

    // Asks epoll for EPOLLOUT; false when the connection was aborted or left epoll meanwhile.
    private bool WaitWritable()
    {
        lock (_gate)
        {
            if ((_state & (ConnectionState.Aborted | ConnectionState.Unwatched | ConnectionState.Closed)) != 0)
            {
                return false;
            }

            _state |= ConnectionState.WaitingToWrite;
            UpdateInterest();
            return true;
        }
    }

    // On the reactor's thread when the socket became writable or hung up; on any thread when the connection is
    // aborted or closed. Only the caller that clears the waiting flag goes on.
    private void WakeWriter(bool writable)
    {
        lock (_gate)
        {
            if ((_state & ConnectionState.WaitingToWrite) == 0)
            {
                return;
            }

            _state &= ~ConnectionState.WaitingToWrite;
            UpdateInterest();
        }

        if (!writable || IsAborted)
        {
            EndSending(null);
            return;
        }

        SendThenRead(afterRead: false);
    }

    private void FailSending(Exception ex)
    {
        SendFailed(_reactor.Logger, ConnectionId, ex);
        Abort(new ConnectionAbortedException("The transport failed while sending.", ex));
        EndSending(ex);
    }

    private void EndSending(Exception? failure)
    {
        TaskCompletionSource? waiter;
        lock (_gate)
        {
            if ((_state & ConnectionState.SendEnded) != 0)
            {
                return;
            }

            _state |= ConnectionState.SendEnded;
            waiter = _sendEndedWaiter;
        }

        _output.Reader.Complete(failure ?? Volatile.Read(ref _abortReason));
        waiter?.TrySetResult();
    }

    private Task SendEndedAsync()
    {
        lock (_gate)
        {
            return WhenReached(ConnectionState.SendEnded, ref _sendEndedWaiter);
        }
    }

    [LoggerMessage(EventId = 63, Level = LogLevel.Error, Message = "Sending on connection {ConnectionId} failed; aborting it")]
    private static partial void SendFailed(ILogger logger, string connectionId, Exception exception);
}
