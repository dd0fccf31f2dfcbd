using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using EchoHost.Shared;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace EchoHost.Transport.Linux;

/// <summary>
/// The send side, with nothing suspended while there is nothing to send: it starts when the output pipe is made,
/// and a read of the output pipe that would wait leaves a callback on the pipe instead of an awaiting loop. The protocol's flush runs that callback inline,
/// and the engine sends what it read (<see cref="SendUnsent"/>): epoll at once, io_uring in its ring's next
/// submission. Whatever ends it, the output's reader is completed and <see cref="SendEndedAsync"/> completes.
/// </summary>
internal abstract partial class LinuxConnection
{
    private Action? _onOutput;
    private bool _flushingOutput;
    private bool _decideAfterFlush;
    private ValueTaskAwaiter<ReadResult> _outputRead;
    private TaskCompletionSource? _sendEndedWaiter;
    private bool _unsentIsLast;
    private volatile bool _sendIdle = true;

    /// <summary>
    /// True while the send side waits on an empty output pipe: all that was written was sent, and bytes sent
    /// around the pipe now would not overtake any.
    /// </summary>
    protected bool SendIdle => _sendIdle;

    /// <summary>What the last read of the output returned and the socket has not taken yet.</summary>
    protected ReadOnlySequence<byte> Unsent { get; set; }

    // Reads the output until a read would wait, sending what each read returns.
    [SuppressMessage("Reliability", "CA2012", Justification = "Each read is consumed once: GetResult in SendRead or TryLetOutputGo, after it completed.")]
    private void ReadOutput(bool justMade)
    {
        try
        {
            while (true)
            {
                var output = Output;
                _outputRead = output.Reader.ReadAsync().GetAwaiter();
                if (!_outputRead.IsCompleted)
                {
                    OnOutputSent(output, justMade);
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

    // All that was written went, and the next read is pending. A pipe that only the engine wrote goes (TryLetOutputGo):
    // at once, or once the engine's flush that sent it has returned; never as it is made, for what its maker is about
    // to write.
    private void OnOutputSent(Pipe output, bool justMade)
    {
        _sendIdle = true;
        if (justMade)
        {
            WaitForOutput();
        }
        else if (_flushingOutput)
        {
            _decideAfterFlush = true;
        }
        else if (!TryLetOutputGo(output))
        {
            WaitForOutput();
        }
    }

    private void WaitForOutput() => _outputRead.UnsafeOnCompleted(_onOutput ??= OnOutput);

    /// <summary>
    /// On the reactor's thread: flushes what the engine wrote to the output pipe, the only way an engine does. When
    /// the send side sent it all inside the flush, the pipe goes once the flush has returned.
    /// </summary>
    protected ValueTask<FlushResult> FlushOutput()
    {
        var output = Output;
        ValueTask<FlushResult> flush;
        _flushingOutput = true;
        try
        {
            flush = output.Writer.FlushAsync();
        }
        finally
        {
            _flushingOutput = false;
        }

        if (_decideAfterFlush)
        {
            _decideAfterFlush = false;

            // The flush's result is taken before the pipe goes: taken after, it would say the reader had completed,
            // which the protocol's runner reads as the peer gone.
            if (flush.IsCompletedSuccessfully)
            {
                flush = new(flush.Result);
            }

            if (!flush.IsCompletedSuccessfully || !TryLetOutputGo(output))
            {
                WaitForOutput();
            }
        }

        return flush;
    }

    private void OnOutput()
    {
        _sendIdle = false;
        SendThenRead(afterRead: true);
    }

    /// <summary>
    /// One sending step, after a completed read or once the socket took more (writable, or a send completed);
    /// while the socket takes everything, reading the output goes on.
    /// </summary>
    protected void SendThenRead(bool afterRead)
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
            ReadOutput(justMade: false);
        }
    }

    // With the next read of the output pending and all before it sent, the pipe goes unless someone took its writer
    // or the connection is ending; the next output the socket does not take at once makes another. Only the
    // reactor's thread writes a pipe whose writer nobody took, and it is here.
    private bool TryLetOutputGo(Pipe output)
    {
        lock (Gate)
        {
            const ConnectionState Kept = ConnectionState.OutputTaken | ConnectionState.SendEnded | ConnectionState.Aborted | ConnectionState.Closed;
            if ((State & Kept) != 0 || !ReferenceEquals(_output, output) || output.Writer.UnflushedBytes != 0)
            {
                return false;
            }

            _output = null;
        }

        output.Reader.CancelPendingRead();
        var read = _outputRead.GetResult();
        _outputRead = default;
        output.Reader.AdvanceTo(read.Buffer.End);
        output.Reader.Complete();
        output.Writer.Complete();
        (Unsent, _onOutput) = (default, null);
        _sendIdle = true;
        OnOutputLetGo();
        return true;
    }

    /// <summary>On the reactor's thread, once the output pipe went: what the engine kept for sending from it may go too.</summary>
    protected virtual void OnOutputLetGo()
    {
    }

    // Sends what the completed read returned; false when sending stops here: it waits on the socket, or the output ended.
    private bool SendRead()
    {
        var result = _outputRead.GetResult();
        _outputRead = default;
        if (IsAborted)
        {
            EndSending(null);
            return false;
        }

        Unsent = result.Buffer;
        _unsentIsLast = result.IsCompleted;
        return SendUnsent();
    }

    /// <summary>
    /// Sends <see cref="Unsent"/>, or starts to; true when all of it went and the output is to be read on, false
    /// when the engine goes on later (calling <see cref="SendThenRead"/>) or sending ended.
    /// </summary>
    protected abstract bool SendUnsent();

    /// <summary>Drops empty segments from the front of <see cref="Unsent"/>; false when nothing is left to send.</summary>
    protected bool SkipEmptySegments()
    {
        while (!Unsent.IsEmpty && Unsent.FirstSpan.IsEmpty)
        {
            var next = Unsent.Start;
            Unsent.TryGet(ref next, out _);
            Unsent = Unsent.Slice(next);
        }

        return !Unsent.IsEmpty;
    }

    /// <summary>Everything read was sent: true to read on, false when the output ended, and a FIN followed it.</summary>
    protected bool FinishSent()
    {
        Output.Reader.AdvanceTo(Unsent.End);
        if (!_unsentIsLast)
        {
            return true;
        }

        lock (Gate)
        {
            if ((State & (ConnectionState.Aborted | ConnectionState.Closed)) == 0)
            {
                ShutdownUnlessClosed(LinuxCalls.ShutdownWrite);
            }
        }

        EndSending(null);
        return false;
    }

    /// <summary>The socket refused a send (-errno): the connection is aborted and sending ends.</summary>
    protected void SendRefused(int error)
    {
        Abort(new ConnectionAbortedException($"The connection was reset while sending (errno {-error})."));
        EndSending(null);
    }

    protected void FailSending(Exception ex)
    {
        SendFailed(Logger, ConnectionId, ex);
        Abort(new ConnectionAbortedException("The transport failed while sending.", ex));
        EndSending(ex);
    }

    protected void EndSending(Exception? failure)
    {
        TaskCompletionSource? waiter;
        Pipe? output;
        lock (Gate)
        {
            if ((State & ConnectionState.SendEnded) != 0)
            {
                return;
            }

            State |= ConnectionState.SendEnded;
            waiter = _sendEndedWaiter;
            output = _output;
        }

        output?.Reader.Complete(failure ?? AbortReason);
        waiter?.TrySetResult();
    }

    private Task SendEndedAsync()
    {
        lock (Gate)
        {
            return WhenReached(ConnectionState.SendEnded, ref _sendEndedWaiter);
        }
    }

    [LoggerMessage(EventId = 63, Level = LogLevel.Error, Message = "Sending on connection {ConnectionId} failed; aborting it")]
    private static partial void SendFailed(ILogger logger, string connectionId, Exception exception);
}
