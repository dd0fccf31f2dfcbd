using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using EchoHost.Connections;
using EchoHost.Shared;
using Microsoft.Extensions.Logging;

namespace EchoHost.Transport.Linux;

/// <summary>
/// A connection of the io_uring engine. One receive is queued while the connection reads (from when it has a
/// reader: until then a poll watches for the peer leaving); its completion is copied into the input pipe and the
/// next one queued, unless the protocol has not kept up, when the resume queues it. A receive queued after the
/// socket was emptied is multishot, with a limit: it stays queued for the next arrivals until it has taken the
/// limit, and is cancelled when reading pauses or ends.
/// What the protocol flushes goes out as one send (one sendmsg for several blocks) whose
/// bytes stay pinned until it completes; the output is read on only then. Everything but <see cref="SendUnsent"/>'s
/// hand-over runs on the reactor's thread, so the fields below take no lock. The socket closes only once none of
/// its operations is pending, so the descriptor number a submission names is never another socket's.
/// While its runner is parked, a completed receive takes the inline path instead (<see cref="IInlineReceiveFeature"/>):
/// the runner's turn on the received bytes where the ring's buffer holds them, and its output sent with neither pipe
/// in between, in one send (a sendmsg for several pieces): what it wrote from pooled blocks, what it forwarded from
/// the ring's buffer, which the send holds until it completes. Output that meets a send in flight waits in the
/// output pipe until it completes.
/// </summary>
internal sealed unsafe class IoUringConnection(AcceptedSocket socket, IoUringReactor reactor, LinuxTransportOptions options)
    : LinuxConnection(socket, options), IInlineReceiveFeature
{
    private const int MaxSegments = LinuxCalls.MaxGather;
    private const int MaxUnflushed = 48 * 1024;

    private bool _receiving;
    private bool _multishot;
    private bool _receiveCanceled;
    private bool _sending;
    private bool _peerLeft;
    private bool _polling;
    private bool _pollCanceled;

    // The last receive left the socket empty: the next one waits for the peer, as in ping-pong, where the reply has
    // to reach the client before it sends again.
    private bool _socketDrained;
    private MemoryHandle _pin;
    private MemoryHandle[]? _pins;
    private Message* _message;
    private InlineSend? _inlineSend;
    private int _turnBuffer = -1;
    private bool _outputWaiting;

    protected override TimeProvider Time => reactor.Time;

    protected override bool WaitsForReader => true;

    protected override ILogger Logger => reactor.Logger;

    // Set on the reactor's thread only, by Close and Abandon.
    private bool Closing => (State & ConnectionState.Closed) != 0;

    public bool IsReceivingThread => reactor.OnThread;

    public override int Start() => reactor.Join(this);

    /// <summary>
    /// On the reactor's thread: a receive completed, with its bytes when it had any, in the ring's
    /// <paramref name="buffer"/> (-1 for none), whether the socket still holds more (IORING_CQE_F_SOCK_NONEMPTY), and
    /// whether the receive stays queued (IORING_CQE_F_MORE, a multishot receive's completions but its last).
    /// </summary>
    public void OnReceived(int result, ReadOnlyMemory<byte> data, int buffer, bool socketHoldsMore, bool stillQueued)
    {
        _receiving = stillQueued;
        if (!stillQueued)
        {
            if (_multishot && result == -Ring.InvalidArgument)
            {
                reactor.RefuseMultishot();
                result = -Ring.TryAgain;
            }

            _multishot = false;
            _receiveCanceled = false;
        }

        _socketDrained = result > 0 && !socketHoldsMore;
        if (result > 0)
        {
            // Bytes that wait unflushed in the pipe go first: a turn on what came after them would overtake them.
            if (InlineReceiver is { IsParked: true } receiver && UnflushedInput == 0 && (State & (ConnectionState.ReceiveEnded | ConnectionState.ReadingPaused)) == 0)
            {
                _turnBuffer = buffer;
                try
                {
                    DeliverInline(receiver, data);
                }
                finally
                {
                    _turnBuffer = -1;
                }
            }
            else
            {
                Deliver(data.Span, socketHoldsMore);
            }
        }
        else if (result == 0 || (result != -Ring.NoBuffers && result != -Ring.Canceled && result != -Ring.TryAgain))
        {
            // The peer closed, or the socket failed (completing the input commits what is held); no buffer left, or
            // nothing to read where the receive could not wait, only means receiving again.
            EndReceive(ReceiveError(result));
        }

        if (Closing)
        {
            FinishCloseWhenIdle();
        }
        else
        {
            ReceiveIfReading();
        }
    }

    /// <summary>
    /// On the reactor's thread: the poll for the peer's leaving completed. Before anything read, the peer shut down
    /// its side or the socket failed: what it sent, and its end, are received now, so the end is heard.
    /// </summary>
    public void OnPolled(int result)
    {
        _polling = false;
        _pollCanceled = false;
        if (Closing)
        {
            FinishCloseWhenIdle();
        }
        else if (result != -Ring.Canceled && !HasReader)
        {
            _peerLeft = true;
            ReceiveIfReading();
        }
    }

    /// <summary>True while the inline send in flight reads from the ring's <paramref name="buffer"/>, which it gives back when it completes.</summary>
    public bool Holds(ushort buffer) => _inlineSend?.HeldBuffer == buffer;

    /// <summary>On the reactor's thread: a send completed, with the bytes it sent or -errno.</summary>
    public void OnSent(int result)
    {
        _sending = false;
        Unpin();
        if (Closing || IsAborted)
        {
            EndInlineSend();
            EndSending(null);
            FinishCloseWhenIdle();
            return;
        }

        // EAGAIN: the send ran where it could not wait (the kernel's worker, on a non-blocking descriptor) and the
        // socket was full. Nothing was sent; the same bytes go again, and the new send waits for room.
        if (result < 0 && result != -Ring.TryAgain)
        {
            EndInlineSend();
            SendRefused(result);
            return;
        }

        var sent = Math.Max(result, 0);
        if (_inlineSend is not null)
        {
            InlineSent(sent);
            return;
        }

        Unsent = Unsent.Slice(sent);
        SendThenRead(afterRead: false);
    }

    public IInlineOutput BeginOutput() => reactor.InlineOutput.Begin(this);

    public ValueTask<FlushResult> Send()
    {
        var output = reactor.InlineOutput;
        if (!output.End())
        {
            return FlushOutput();
        }

        if (output.Length == 0)
        {
            return default;
        }

        // Forwarded bytes are sent from the ring's buffer they were received into, which the send holds until it
        // completes, when what the turn wrote fits one block and the reactor can spare the buffer; otherwise all of
        // it is copied into blocks.
        var largest = MemoryPool.MaxBufferSize;
        var holds = _turnBuffer >= 0 && output.Forwarded && (largest <= 0 || output.Written <= largest) && reactor.CanHoldBuffer;

        // A send in flight, or bytes the send side holds, go first: these follow them through the pipe. So does
        // output to copy larger than one sendmsg's worth of blocks.
        if (_sending || !SendIdle || IsAborted || Closing || (!holds && largest > 0 && output.Length > (long)largest * MaxSegments))
        {
            output.WriteTo(Output.Writer, 0);
            return FlushOutput();
        }

        // The reactor's output buffer serves the next turns, so what the turn wrote is copied into blocks that wait
        // for the send.
        var send = _inlineSend = reactor.RentInlineSend();
        if (holds)
        {
            var written = output.Written > 0 ? send.Hold(MemoryPool, output.Written, out _) : null;
            if (written is not null)
            {
                output.WrittenBytes.CopyTo(new Span<byte>(written, output.Written));
            }

            send.VectorCount = output.Vectors(0, send.Vectors, written);
            send.HeldBuffer = _turnBuffer;
            reactor.HoldBuffer();
        }
        else
        {
            for (var copied = 0; copied < output.Length; send.VectorCount++)
            {
                var block = send.Hold(MemoryPool, largest > 0 ? Math.Min(output.Length - copied, largest) : output.Length - copied, out var size);
                var length = output.CopyTo(new Span<byte>(block, size), copied);
                send.Vectors[send.VectorCount * 2] = (nint)block;
                send.Vectors[(send.VectorCount * 2) + 1] = length;
                copied += length;
            }
        }

        SendInline(send);
        return default;
    }

    protected override void OnSendPosted()
    {
        if (IsAborted || Closing)
        {
            EndSending(null);
            return;
        }

        SendThenRead(afterRead: false);
    }

    public override void OnResume()
    {
        if (Closing)
        {
            return;
        }

        lock (Gate)
        {
            if (!ClearReadingPaused())
            {
                return;
            }
        }

        if (ResumedFlush.IsCompleted)
        {
            EndReceive(null);
            return;
        }

        if (UnflushedInput > 0)
        {
            FlushReceived();
        }

        ReceiveIfReading();
    }

    public override void OnAborted()
    {
        base.OnAborted();

        // The abort shut the socket down, which ends the receive; a send into a full socket may wait on, so it is cancelled.
        CancelPending();
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

            State |= ConnectionState.Closed;
        }

        CancelPending();
        FinishCloseWhenIdle();
    }

    /// <summary>Once the reactor stopped: nothing more is sent, and the socket is closed whatever the kernel still holds of it.</summary>
    public void Abandon()
    {
        lock (Gate)
        {
            State |= ConnectionState.Closed;
        }

        _sending = _receiving = _polling = false;
        EndSending(null);
        FinishCloseWhenIdle();
    }

    protected override void Post(ReactorWork work) => reactor.Post(this, work);

    protected override void OnAbortedAnyThread()
    {
    }

    protected override void OnReceiveStateChanged()
    {
    }

    protected override void OnReaderArrived() => ReceiveIfReading();

    protected override bool SendUnsent()
    {
        if (!reactor.OnThread)
        {
            Post(ReactorWork.Send);
            return false;
        }

        // An inline turn's send is in flight: this output, and the end of output, wait until it completes.
        if (_inlineSend is not null)
        {
            _outputWaiting = true;
            return false;
        }

        if (!SkipEmptySegments())
        {
            return FinishSent();
        }

        try
        {
            var first = Unsent.First;
            if (Unsent.IsSingleSegment || first.Length >= Unsent.Length)
            {
                _pin = first.Pin();
                reactor.Send(this, (byte*)_pin.Pointer, first.Length, null);
            }
            else
            {
                SendSegments();
            }
        }
        catch
        {
            Unpin();
            throw;
        }

        _sending = true;
        return false;
    }

    // Several blocks in one sendmsg, up to MaxSegments of them; the rest goes once these are sent.
    private void SendSegments()
    {
        _pins ??= new MemoryHandle[MaxSegments];
        if (_message is null)
        {
            _message = (Message*)NativeMemory.AllocZeroed((nuint)sizeof(Message));
        }

        var count = LinuxCalls.PinBlocks(Unsent, _pins, (nint*)&_message->Vectors[0]);
        _message->Header = default;
        _message->Header.Vectors = (nint)(&_message->Vectors[0]);
        _message->Header.VectorCount = count;
        reactor.Send(this, null, 0, &_message->Header);
    }

    // What is left of the inline turn's output: from one iovec a plain send, from several one sendmsg.
    private void SendInline(InlineSend send)
    {
        if (send.VectorCount == 1)
        {
            reactor.Send(this, (byte*)send.Vectors[0], (int)send.Vectors[1], null);
        }
        else
        {
            reactor.Send(this, null, 0, send.Header);
        }

        _sending = true;
    }

    // What the socket took of the inline send: the iovecs move past it and the rest is sent; once all of it went,
    // the send side goes on with what the output pipe gave it meanwhile.
    private void InlineSent(int sent)
    {
        if (_inlineSend!.Advance(sent))
        {
            SendInline(_inlineSend);
            return;
        }

        EndInlineSend();
        if (_outputWaiting)
        {
            _outputWaiting = false;
            SendThenRead(afterRead: false);
        }
    }

    private void EndInlineSend()
    {
        if (_inlineSend is not { } send)
        {
            return;
        }

        _inlineSend = null;
        if (send.HeldBuffer >= 0)
        {
            reactor.ReturnBuffer((ushort)send.HeldBuffer);
        }

        send.Release();
        reactor.ReturnInlineSend(send);
    }

    // Nothing is in flight from an empty pipe: the pins' array and the sendmsg message it was sent with go with it.
    protected override void OnOutputLetGo()
    {
        _pins = null;
        if (_message is not null && !_sending)
        {
            NativeMemory.Free(_message);
            _message = null;
        }
    }

    private void Unpin()
    {
        _pin.Dispose();
        _pin = default;
        if (_pins is not null)
        {
            for (var i = 0; i < _pins.Length; i++)
            {
                _pins[i].Dispose();
                _pins[i] = default;
            }
        }
    }

    // Bytes that arrive after an abort ended the input are dropped, as a socket's would be.
    // While the socket holds more, a few receives' bytes are gathered before one flush (the next receive completes
    // in the next turn), so a pipelining client's stream reaches the protocol, and its replies the socket, in
    // fewer and larger pieces; anything else is flushed at once.
    private void Deliver(ReadOnlySpan<byte> data, bool socketHoldsMore)
    {
        if ((State & ConnectionState.ReceiveEnded) != 0)
        {
            return;
        }

        // A multishot receive's completions that follow the pause (until its cancel) wait unflushed: the paused flush
        // is still pending, and the resume flushes them.
        Input.Writer.Write(data);
        if ((State & ConnectionState.ReadingPaused) != 0 || (socketHoldsMore && Input.Writer.UnflushedBytes < MaxUnflushed))
        {
            return;
        }

        FlushReceived();
    }

    // The parked runner's turn on the received bytes, read in the ring's buffer; only what it left unconsumed is
    // copied into the pipe, where it waits for more.
    private void DeliverInline(IInlineReceiver receiver, ReadOnlyMemory<byte> data)
    {
        var consumed = receiver.Receive(new ReadOnlySequence<byte>(data)) ?? 0;
        if (consumed < data.Length)
        {
            Input.Writer.Write(data.Span[consumed..]);
            FlushReceived();
        }
    }

    private void FlushReceived()
    {
        var flush = FlushInput();
        if (!flush.IsCompleted)
        {
            PauseReading(flush);
        }
        else if (flush.Result.IsCompleted)
        {
            EndReceive(null);
        }
        else if (InlineReceiver is { IsParked: true })
        {
            // The runner read it all and parked again inside the flush: the emptied pipe can go now.
            ReleaseEmptyInput();
        }
    }

    // One receive at a time. A multishot one still queued when reading pauses is cancelled: it would go on taking
    // buffers after the pipe is full, and its limit keeps what it takes before the cancel under one buffer's worth,
    // as a single receive's. Until the connection has a reader, bytes wait in the socket, so a runner attaching
    // parked gets them inline rather than from a pipe made for them; only the peer's leaving is watched for meanwhile.
    private void ReceiveIfReading()
    {
        if ((State & (ConnectionState.ReadingPaused | ConnectionState.ReceiveEnded | ConnectionState.Closed)) != 0)
        {
            if (_multishot)
            {
                CancelReceive();
            }

            return;
        }

        if (_receiving)
        {
            return;
        }

        if (HasReader || _peerLeft)
        {
            // The receive hears the peer leave from now on, so the poll that watched for it is no longer needed.
            CancelPoll();
            _multishot = reactor.Receive(this, waitFirst: _socketDrained);
            _receiving = true;
        }
        else if (!_polling)
        {
            reactor.PollLeaving(this);
            _polling = true;
        }
    }

    private void CancelReceive()
    {
        if (_receiving && !_receiveCanceled)
        {
            reactor.Cancel(this, IoUringReactor.Operation.Receive);
            _receiveCanceled = true;
        }
    }

    private void CancelPending()
    {
        CancelReceive();
        if (_sending)
        {
            reactor.Cancel(this, IoUringReactor.Operation.Send);
        }

        CancelPoll();
    }

    private void CancelPoll()
    {
        if (_polling && !_pollCanceled)
        {
            reactor.Cancel(this, IoUringReactor.Operation.Poll);
            _pollCanceled = true;
        }
    }

    private void FinishCloseWhenIdle()
    {
        if (!Closing || _sending || _receiving || _polling || (State & ConnectionState.SocketClosed) != 0)
        {
            return;
        }

        if (_message is not null)
        {
            NativeMemory.Free(_message);
            _message = null;
        }

        reactor.Leave(this);
        CloseSocket();
    }

    // A msghdr and the iovecs it points at, in one allocation made on the connection's first multi-block send.
    [StructLayout(LayoutKind.Sequential)]
    private struct Message
    {
        public LinuxCalls.MessageHeader Header;
        public fixed long Vectors[MaxSegments * 2];
    }
}
