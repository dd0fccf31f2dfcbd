using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using EchoHost.Connections;
using EchoHost.Shared;
using Microsoft.Extensions.Logging;

namespace EchoHost.Transport.Linux;

/// <summary>
/// A connection of the epoll engine: readiness from its <see cref="EpollReactor"/>, reported once per change
/// (edge-triggered), and a recv or send right there. Receiving sizes each read by what the pipe's last block still
/// holds, so a client that drips bytes fills one block rather than taking a block per byte. Sending sends what the
/// protocol flushed at once, leaving the rest for EPOLLOUT only when the socket's buffer is full. While its runner
/// is parked, a readable socket takes the inline path instead (<see cref="IInlineReceiveFeature"/>): one receive
/// into the reactor's buffer, the runner's turn, one send from the reactor's buffers (a sendmsg when the turn
/// forwarded received bytes between bytes it wrote), and only what does not fit goes through the pipes. Until the
/// connection has a reader, a readable socket is left alone (<c>AwaitingReader</c>), so that reader gets the first
/// bytes. The reactor's thread alone sets and clears <c>ReadingPaused</c>, <c>ReceiveEnded</c> and <c>AwaitingReader</c>.
/// </summary>
internal sealed class EpollConnection(AcceptedSocket socket, EpollReactor reactor, LinuxTransportOptions options)
    : LinuxConnection(socket, options), IInlineReceiveFeature
{
    // What a receive asks of the pipe: the last block is reused while it has this much room, so a trickle of
    // small segments shares one block, and a new block is taken only for a bigger read.
    private const int ReceiveHint = 2048;
    private const int MaxReceivesPerFlush = 4;
    private const int ReceivesPerReport = 4;

    // What epoll watches while reading: with the peer's FIN among it, a report says whether anything can arrive after
    // what the socket holds.
    private const uint Receiving = LinuxCalls.In | LinuxCalls.ReadHangUp;

    private uint _watched;
    private int? _endAfterFlush;
    private bool _receiveFilled;

    protected override TimeProvider Time => reactor.Time;

    protected override bool WaitsForReader => true;

    public bool IsReceivingThread => reactor.IsReactorThread;

    protected override ILogger Logger => reactor.Logger;

    // What epoll watches is recorded before the socket joins it: the reactor may change it as soon as it has.
    public override int Start()
    {
        lock (Gate)
        {
            _watched = Receiving;
        }

        var result = reactor.Watch(this, Receiving);
        if (result != 0)
        {
            lock (Gate)
            {
                State |= ConnectionState.Unwatched;
            }
        }

        return result;
    }

    /// <summary>Called on the reactor's thread with the events epoll reported.</summary>
    public void OnReady(uint events)
    {
        var hungUp = (events & (LinuxCalls.Error | LinuxCalls.HangUp)) != 0;
        if ((events & LinuxCalls.Out) != 0 || hungUp)
        {
            WakeWriter(true);
        }

        if ((events & (LinuxCalls.In | LinuxCalls.ReadHangUp)) == 0 && !hungUp)
        {
            return;
        }

        if (!HasReader && !LeavesWithoutReader(events, hungUp))
        {
            return;
        }

        if ((State & (ConnectionState.ReadingPaused | ConnectionState.ReceiveEnded)) == 0)
        {
            ReceiveReported(leaving: hungUp || (events & LinuxCalls.ReadHangUp) != 0);
        }
        else if (hungUp)
        {
            // A hang-up is reported whatever the interest: a connection that is not reading leaves epoll, and reads
            // what is left when it resumes.
            lock (Gate)
            {
                Unwatch();
            }
        }
    }

    public override void OnResume()
    {
        bool unwatched;
        lock (Gate)
        {
            if (!ClearReadingPaused())
            {
                return;
            }

            unwatched = (State & ConnectionState.Unwatched) != 0;
            UpdateInterest();
        }

        if (ResumedFlush.IsCompleted)
        {
            EndReceive(null);
        }
        else if (unwatched)
        {
            // Out of epoll since the peer hung up: what is left to read is read now.
            while (Receive() == ReceiveStep.Continue)
            {
            }
        }
    }

    protected override void OnReaderArrived()
    {
        lock (Gate)
        {
            if ((State & ConnectionState.AwaitingReader) != 0)
            {
                State &= ~ConnectionState.AwaitingReader;
                UpdateInterest();
            }
        }
    }

    public override void Close()
    {
        EndReceive(null);
        lock (Gate)
        {
            if ((State & ConnectionState.Closed) != 0)
            {
                return;
            }

            // The close takes the socket out of epoll, since this is its only descriptor; an event already on its way
            // carries a token the reactor no longer finds.
            State |= ConnectionState.Closed;
        }

        WakeWriter(false);
        CloseSocket();
    }

    public IInlineOutput BeginOutput() => reactor.InlineOutput.Begin(this);

    public ValueTask<FlushResult> Send()
    {
        var output = reactor.InlineOutput;
        if (!output.End())
        {
            return FlushOutput();
        }

        var sent = 0;
        while (sent < output.Length && SendIdle && !IsAborted)
        {
            var result = output.Count == 1 ? LinuxCalls.Send(Descriptor, output.First[sent..]) : SendPieces(output, sent);
            if (result > 0)
            {
                sent += result;
            }
            else if (result == -LinuxCalls.WouldBlock)
            {
                break;
            }
            else if (result != -LinuxCalls.Interrupted)
            {
                SendRefused(result);
                return new(new FlushResult(isCanceled: false, isCompleted: true));
            }
        }

        if (sent == output.Length)
        {
            return default;
        }

        // The socket's buffer is full, or the send side has bytes of its own waiting: the pipe takes the rest.
        output.WriteTo(Output.Writer, sent);
        return FlushOutput();
    }

    private unsafe int SendPieces(InlineOutput output, int skip)
    {
        var vectors = stackalloc nint[LinuxCalls.MaxGather * 2];
        return LinuxCalls.SendVectors(Descriptor, vectors, output.Vectors(skip, vectors, null));
    }

    protected override void Post(ReactorWork work) => reactor.Post(this, work);

    protected override void OnAbortedAnyThread() => WakeWriter(false);

    protected override void OnReceiveStateChanged() => UpdateInterest();

    protected override bool SendUnsent()
    {
        while (SkipEmptySegments())
        {
            var sent = Unsent.IsSingleSegment ? LinuxCalls.Send(Handle, Unsent.FirstSpan) : LinuxCalls.SendGather(Handle, Unsent);
            if (sent > 0)
            {
                Unsent = Unsent.Slice(sent);
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
                SendRefused(sent);
                return false;
            }
        }

        return FinishSent();
    }

    private enum ReceiveStep
    {
        Continue,
        Wait,
        Ended,
    }

    // Epoll reports a socket once per arrival (edge-triggered), so a report is read until a receive comes back short:
    // that emptied the socket, and whatever arrives after it is reported again. A peer that left sends nothing more,
    // so its socket is read to the end. Otherwise a receive that filled its buffer is followed by another, up to
    // ReceivesPerReport; then epoll reports the socket again, after the other ready sockets.
    private void ReceiveReported(bool leaving)
    {
        var step = Receive();
        for (var receives = 1; step == ReceiveStep.Continue && (leaving || _receiveFilled); receives++)
        {
            if (!leaving && receives == ReceivesPerReport)
            {
                Rearm();
                return;
            }

            step = Receive();
        }
    }

    private ReceiveStep Receive()
    {
        if (_endAfterFlush is { } end)
        {
            _endAfterFlush = null;
            EndReceive(ReceiveError(end));
            return ReceiveStep.Ended;
        }

        if (InlineReceiver is { IsParked: true } receiver)
        {
            return ReceiveInline(receiver);
        }

        var received = ReceiveIntoPipe();
        return received > 0 ? FlushReceived() : NothingReceived(received);
    }

    // One receive into the reactor's buffer, handed to the parked receiver without the pipe; only what it left
    // unconsumed is copied into the pipe, where it waits for more.
    private ReceiveStep ReceiveInline(IInlineReceiver receiver)
    {
        var buffer = reactor.InlineInput;
        var received = LinuxCalls.Receive(Descriptor, buffer);
        if (received <= 0)
        {
            return NothingReceived(received);
        }

        _receiveFilled = received == buffer.Length;
        var data = new ReadOnlySequence<byte>(buffer, 0, received);
        var left = received - (receiver.Receive(data) ?? 0);
        if (left == 0)
        {
            return ReceiveStep.Continue;
        }

        Input.Writer.Write(buffer.AsSpan(received - left, left));
        return FlushReceived();
    }

    private ReceiveStep FlushReceived()
    {
        var flush = FlushInput();
        if (!flush.IsCompleted)
        {
            PauseReading(flush);
            return ReceiveStep.Wait;
        }

        if (flush.Result.IsCompleted)
        {
            EndReceive(null);
            return ReceiveStep.Ended;
        }

        // The runner read it all and parked again inside the flush: the emptied pipe can go now.
        if (InlineReceiver is { IsParked: true })
        {
            ReleaseEmptyInput();
        }

        // The protocol ran inline and has the bytes: an end read after them can be delivered now.
        return _endAfterFlush is null ? ReceiveStep.Continue : Receive();
    }

    // A receive that brought no bytes: 0 or -errno. An interrupted one is taken again, as no report of the bytes it
    // missed will come.
    private ReceiveStep NothingReceived(int received)
    {
        if (received == -LinuxCalls.WouldBlock)
        {
            return ReceiveStep.Wait;
        }

        if (received == -LinuxCalls.Interrupted)
        {
            _receiveFilled = true;
            return ReceiveStep.Continue;
        }

        EndReceive(ReceiveError(received));
        return ReceiveStep.Ended;
    }

    // Bytes received, or the first receive's -errno. While a receive fills the block it was given, the socket likely
    // holds more, so up to MaxReceivesPerFlush are taken before one flush: a pipelining client's stream reaches the
    // protocol, and its replies the socket, in fewer and larger pieces. An end (0 or -errno) read after bytes waits
    // in _endAfterFlush until the protocol has them.
    private int ReceiveIntoPipe()
    {
        var total = 0;
        _receiveFilled = false;
        for (var receives = 0; receives < MaxReceivesPerFlush; receives++)
        {
            var memory = Input.Writer.GetMemory(ReceiveHint);
            var received = LinuxCalls.Receive(Descriptor, memory.Span);
            if (received <= 0)
            {
                if (total == 0)
                {
                    return received;
                }

                _receiveFilled = received == -LinuxCalls.Interrupted;
                if (received != -LinuxCalls.WouldBlock && !_receiveFilled)
                {
                    _endAfterFlush = received;
                }

                break;
            }

            Input.Writer.Advance(received);
            total += received;
            _receiveFilled = received == memory.Length;
            if (!_receiveFilled)
            {
                break;
            }
        }

        return total;
    }

    // Bytes that arrive before the connection has a reader stay in the socket, with epoll watching only for the
    // peer to leave; false while they wait. A peer that leaves is received from at once, into the pipe, so its end
    // is heard (ConnectionClosed) whether or not anything reads.
    private bool LeavesWithoutReader(uint events, bool hungUp)
    {
        var leaving = hungUp || (events & LinuxCalls.ReadHangUp) != 0;
        lock (Gate)
        {
            if (leaving)
            {
                State &= ~ConnectionState.AwaitingReader;
            }
            else
            {
                State |= ConnectionState.AwaitingReader;
            }

            UpdateInterest();
        }

        return leaving;
    }

    // Asks epoll for EPOLLOUT; false when the connection was aborted or left epoll meanwhile.
    private bool WaitWritable()
    {
        lock (Gate)
        {
            if ((State & (ConnectionState.Aborted | ConnectionState.Unwatched | ConnectionState.Closed)) != 0)
            {
                return false;
            }

            State |= ConnectionState.WaitingToWrite;
            UpdateInterest();
            return true;
        }
    }

    // On the reactor's thread when the socket became writable or hung up; on any thread when the connection is
    // aborted or closed. Only the caller that clears the waiting flag goes on.
    private void WakeWriter(bool writable)
    {
        lock (Gate)
        {
            if ((State & ConnectionState.WaitingToWrite) == 0)
            {
                return;
            }

            State &= ~ConnectionState.WaitingToWrite;
            UpdateInterest();
        }

        if (!writable || IsAborted)
        {
            EndSending(null);
            return;
        }

        SendThenRead(afterRead: false);
    }

    // Under Gate: epoll is told what the state asks for, reading unless paused or ended, writing while waiting to.
    private void UpdateInterest()
    {
        if ((State & (ConnectionState.Unwatched | ConnectionState.Closed)) != 0)
        {
            return;
        }

        var receiving = (State & ConnectionState.AwaitingReader) != 0 ? LinuxCalls.ReadHangUp
            : (State & (ConnectionState.ReadingPaused | ConnectionState.ReceiveEnded)) == 0 ? Receiving : 0;
        var interest = receiving | ((State & ConnectionState.WaitingToWrite) != 0 ? LinuxCalls.Out : 0);
        if (interest != _watched && reactor.Change(this, interest) == 0)
        {
            _watched = interest;
        }
    }

    // A change of interest has epoll poll the socket at once and report it if ready, the same interest included.
    private void Rearm()
    {
        lock (Gate)
        {
            if ((State & (ConnectionState.Unwatched | ConnectionState.Closed)) == 0 && (_watched & LinuxCalls.In) != 0)
            {
                reactor.Change(this, _watched);
            }
        }
    }

    // Under Gate.
    private void Unwatch()
    {
        if ((State & (ConnectionState.Unwatched | ConnectionState.Closed)) == 0)
        {
            reactor.Unwatch(this);
            State |= ConnectionState.Unwatched;
        }
    }
}
