using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using EchoHost.Connections.Diagnostics;
using EchoHost.Connections.Logging;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.Extensions.Logging;

namespace EchoHost.Connections.Protocols;

/// <summary>
/// Runs one <see cref="IConnectionProtocol"/> over one <see cref="ConnectionContext"/>: the reads, the
/// transport the protocol writes through, one flush per read, the idle and write timeouts, and a graceful end
/// (FIN) on end of input, on the protocol's <see cref="IProtocolTransport.Close"/>, on idleness and on server
/// shutdown. Whatever happens, the protocol hears <see cref="IConnectionProtocol.ConnectionLost"/> and both
/// pipes are completed. On a transport that offers <see cref="IInlineReceiveFeature"/>, the runner starts parked
/// and parks between turns instead of reading its pipe, and the transport runs its turns with what it receives.
/// </summary>
public sealed class ProtocolConnection : IProtocolTransport, IConnectionTrafficFeature, IInlineReceiver
{
    private const int Reading = 0;
    private const int Parked = 1;
    private const int InTurn = 2;

    private readonly ConnectionContext _connection;
    private readonly IDuplexPipe _transport;
    private readonly ProtocolConnections _listener;
    private Action? _onInput;
    private readonly TaskCompletionSource<ConnectionOutcome> _run = new();
    private long _lastActivity;
    private int _activeSinceHeartbeat;
    private long _flushStarted;
    private int _timeoutQueued;
    private bool _queuedTimeoutIsWrite;
    private int _shutdownRequested;
    private volatile bool _writeTimedOut;
    private volatile bool _ended;
    private bool _closeRequested;
    private bool _hasUnflushedOutput;
    private long _inputHeld;
    private IConnectionProtocol? _protocol;
    private ExecutionContext? _context;
    private ValueTaskAwaiter<ReadResult> _read;
    private IInlineReceiveFeature? _inline;
    private PipeReader? _input;
    private PipeWriter? _output;
    private IInlineOutput? _turnOutput;
    private int _inlineState;
    private CancellationToken _serverCloseRequest;

    public ProtocolConnection(ConnectionContext connection, ProtocolConnections listener)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(listener);
        _connection = connection;
        _transport = connection.Transport;
        _listener = listener;
    }

    public EndPoint? RemoteEndPoint => _connection.RemoteEndPoint;

    public long BytesReceived { get; private set; }

    public long BytesSent { get; private set; }

    public ConnectionOutcome? Outcome { get; private set; }

    // Taken when first used: a runner that only ever takes inline turns leaves the transport's pipes unmade.
    private PipeReader Input => _input ??= _transport.Input;

    private PipeWriter Output => _output ??= _transport.Output;

    public void Write(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
        {
            return;
        }

        if (_turnOutput is { } turn)
        {
            turn.Write(data);
        }
        else
        {
            Output.Write(data);
        }

        BytesSent += data.Length;
        _hasUnflushedOutput = true;
    }

    public void Write(in ReadOnlySequence<byte> data)
    {
        if (_turnOutput is { } turn && Volatile.Read(ref _inlineState) == InTurn)
        {
            // Bytes of the turn's input may be sent from where they were received.
            var length = data.Length;
            if (length > 0)
            {
                turn.Forward(data);
                BytesSent += length;
                _hasUnflushedOutput = true;
            }

            return;
        }

        if (data.IsSingleSegment)
        {
            Write(data.FirstSpan);
            return;
        }

        foreach (var segment in data)
        {
            Write(segment.Span);
        }
    }

    public void Close() => _closeRequested = true;

    bool IInlineReceiver.IsParked => Volatile.Read(ref _inlineState) == Parked;

    int? IInlineReceiver.Receive(in ReadOnlySequence<byte> data)
    {
        if (Interlocked.CompareExchange(ref _inlineState, InTurn, Parked) != Parked)
        {
            return null;
        }

        // The turn runs in the connection's context (its log scopes), as a read of the pipe would.
        var outside = ExecutionContext.Capture();
        if (_context is null || outside is null)
        {
            return InlineTurn(data);
        }

        ExecutionContext.Restore(_context);
        try
        {
            return InlineTurn(data);
        }
        finally
        {
            ExecutionContext.Restore(outside);
        }
    }

    void IInlineReceiver.Wake()
    {
        if (Interlocked.CompareExchange(ref _inlineState, Reading, Parked) == Parked)
        {
            ReadOn();
        }
    }

    /// <summary>
    /// Runs the protocol until the connection ends and says why it ended. A reset or abort is reported in the
    /// outcome, never thrown: for a server that is a peer leaving, not a fault. An exception from the protocol
    /// itself is rethrown once the connection is cleaned up, so Kestrel logs it as the bug it is.
    /// </summary>
    public Task<ConnectionOutcome> RunAsync(IConnectionProtocol protocol)
    {
        ArgumentNullException.ThrowIfNull(protocol);
        if (Interlocked.CompareExchange(ref _protocol, protocol, null) is not null)
        {
            throw new InvalidOperationException("A protocol connection runs one protocol.");
        }

        // Nothing here awaits a read: between reads the connection is a callback left on its input, so an idle
        // connection holds no suspended method. The callback runs in this context (its log scopes), as an await would.
        _context = ExecutionContext.Capture();

        // Before the heartbeat below can compare with it.
        Volatile.Write(ref _lastActivity, _listener.Time.GetTimestamp());
        try
        {
            _connection.Features.Set<IConnectionTrafficFeature>(this);

            // Kestrel asks connections to finish on shutdown; a read that never returns would hold shutdown for the
            // host's whole timeout and end in a reset, so the request cancels the pending read instead. The listener's
            // heartbeat passes the request on, or, once the host is stopping, a registration (ProtocolConnections).
            _serverCloseRequest = _connection.Features.Get<IConnectionLifetimeNotificationFeature>()?.ConnectionClosedRequested ?? default;
            if (_listener.Add(this))
            {
                HearCloseRequest();
            }

            protocol.ConnectionMade(this);
            if (ParkAttached())
            {
                return _run.Task;
            }

            ReadNext();
        }
        catch (Exception ex)
        {
            Fail(ex);
            return _run.Task;
        }

        Pump();
        return _run.Task;
    }

    private void OnInput()
    {
        if (_context is null)
        {
            Pump();
        }
        else
        {
            ExecutionContext.Run(_context, static state => ((ProtocolConnection)state!).Pump(), this);
        }
    }

    // A shutdown asked for from another thread cancelled the read of the pipe the transport held then, and the runner
    // may have let that pipe go since, as it parked: a transport may drop a released pipe that holds no bytes, and the
    // cancelled read with it. So every read after the request is cancelled here too; the first one ends the connection.
    [SuppressMessage("Reliability", "CA2012", Justification = "Each read is consumed once: GetResult in Pump, after it completed.")]
    private void ReadNext()
    {
        var input = Input;
        if (ShutdownRequested)
        {
            input.CancelPendingRead();
        }

        _read = input.ReadAsync().GetAwaiter();
    }

    // Handles every read that has completed, then leaves a callback for the next one.
    private void Pump()
    {
        try
        {
            while (_read.IsCompleted)
            {
                if (!Handle(_read.GetResult()) || TryPark(inlineTurn: false))
                {
                    return;
                }

                ReadNext();
            }

            _read.UnsafeOnCompleted(_onInput ??= OnInput);
        }
        catch (Exception ex)
        {
            Fail(ex);
        }
    }

    // One read: the protocol's turn, the counts, and one flush of what it wrote. False when the connection ended
    // here, or when a flush waits on the peer and reading goes on once it completes.
    private bool Handle(in ReadResult result)
    {
        var buffer = result.Buffer;
        ConnectionEndReason? end = result switch
        {
            { IsCompleted: true } => ConnectionEndReason.PeerClosed,
            { IsCanceled: true } when ShutdownRequested => ConnectionEndReason.ServerShutdown,
            { IsCanceled: true } when IsIdle(_listener.Time.GetTimestamp()) => ConnectionEndReason.IdleTimeout,
            _ => null,
        };
        MarkActivity();
        if (end == ConnectionEndReason.IdleTimeout && _listener.Logger.IsEnabled(LogLevel.Information))
        {
            var peer = PeerAddress.Format(RemoteEndPoint);
            ConnectionLifetimeLog.ConnectionIdle(_listener.Logger, peer, _listener.Options.IdleTimeout);
        }

        // On the receiving thread the reply goes out as an inline turn's does, so a line split across reads makes no
        // output pipe; the input stays the pipe's, so none of it is forwarded.
        var inline = _inline is { IsReceivingThread: true };
        _turnOutput = inline ? _inline!.BeginOutput() : null;
        SequencePosition consumed;
        long received;
        try
        {
            consumed = Deliver(buffer, end, out received);
        }
        finally
        {
            _turnOutput = null;
        }

        // The length is taken before AdvanceTo: that gives the consumed segments back to the pipe, which resets them,
        // and a sequence over several segments is measured through them.
        var held = buffer.Length - received;
        Input.AdvanceTo(consumed, buffer.End);
        HoldInput(held);
        return FlushTurn(end, inline);
    }

    // A turn the transport runs with what it received: returns how many bytes the protocol consumed. The runner goes
    // back to the pipe for what it left (the transport puts it there), and after a flush that waits or the
    // connection's end.
    private int InlineTurn(in ReadOnlySequence<byte> input)
    {
        var consumed = input.Length;
        bool goOn;
        try
        {
            MarkActivity();
            _turnOutput = _inline!.BeginOutput();
            try
            {
                Deliver(input, end: null, out consumed);
            }
            finally
            {
                _turnOutput = null;
                Volatile.Write(ref _inlineState, Reading);
            }

            goOn = FlushTurn(end: null, inline: true);
        }
        catch (Exception ex)
        {
            Fail(ex);
            return (int)consumed;
        }

        if (goOn && (consumed != input.Length || !TryPark(inlineTurn: true)))
        {
            ReadOn();
        }

        return (int)consumed;
    }

    // The protocol's turn over what was received, and the counts: returns how far the input was consumed, and how
    // many bytes that is.
    private SequencePosition Deliver(in ReadOnlySequence<byte> buffer, ConnectionEndReason? end, out long received)
    {
        var protocol = _protocol!;
        var sentBefore = BytesSent;
        var consumed = protocol.DataReceived(buffer);
        if (end is not null && !_closeRequested)
        {
            protocol.EofReceived(buffer.Slice(consumed));
            consumed = buffer.End;
        }

        // Most turns consume all they were given, and a sequence's length is then known without slicing it.
        received = consumed.Equals(buffer.End) ? buffer.Length : buffer.Slice(buffer.Start, consumed).Length;
        BytesReceived += received;
        _listener.Metrics?.Transferred(received, BytesSent - sentBefore);
        return consumed;
    }

    // After the protocol's turn: one flush of what it wrote. False when the connection ended here, or when the
    // flush waits on the peer and reading goes on once it completes. Only a flush that waits reads the clock.
    private bool FlushTurn(ConnectionEndReason? end, bool inline)
    {
        if (!_hasUnflushedOutput)
        {
            return GoOn(end);
        }

        // Waiting for the flush is the back-pressure: while the peer does not read, this connection does not
        // read either, and Kestrel stops reading the socket once its input buffer is full. The write timeout
        // bounds how long that may last.
        _hasUnflushedOutput = false;
        var pending = inline ? _inline!.Send() : Output.FlushAsync();
        if (pending.IsCompleted)
        {
            return Flushed(pending.Result, end);
        }

        Volatile.Write(ref _flushStarted, _listener.Time.GetTimestamp());
        _ = FlushStalledAsync(pending, end);
        return false;
    }

    private bool Flushed(FlushResult flush, ConnectionEndReason? end)
    {
        if (_writeTimedOut)
        {
            End(ConnectionEndReason.WriteTimeout);
            return false;
        }

        if (flush.IsCompleted)
        {
            End(ConnectionEndReason.PeerClosed);
            return false;
        }

        return GoOn(end);
    }

    // After a read and its flush: true to read on.
    private bool GoOn(ConnectionEndReason? end)
    {
        if (_closeRequested)
        {
            End(ConnectionEndReason.ProtocolClosed);
            return false;
        }

        if (end is not null)
        {
            End(end.Value);
            return false;
        }

        return true;
    }

    // A flush that completes at once is the common case: it costs the budget nothing, and the read just before
    // it already marked the connection active. One that waits means the client is not reading: the connection is
    // charged its worst case until it does, and its completion is the activity.
    private async Task FlushStalledAsync(ValueTask<FlushResult> pending, ConnectionEndReason? end)
    {
        var budget = _listener.Options.MemoryBudget;
        budget?.ConnectionStalled();
        try
        {
            FlushResult flush;
            try
            {
                flush = await pending;
            }
            finally
            {
                Volatile.Write(ref _flushStarted, 0);
                budget?.ConnectionResumed();
                MarkActivity();
            }

            if (!Flushed(flush, end))
            {
                return;
            }

            ReadNext();
        }
        catch (Exception ex)
        {
            Fail(ex);
            return;
        }

        Pump();
    }

    // On a transport that offers the inline path, the runner starts parked, before it ever read the pipe; the
    // transport wakes it if bytes went there first. A shutdown or timeout asked for meanwhile wakes it here.
    private bool ParkAttached()
    {
        if (_connection.Features.Get<IInlineReceiveFeature>() is not { } inline)
        {
            return false;
        }

        _inline = inline;
        Volatile.Write(ref _inlineState, Parked);
        if (!inline.Attach(this, _transport))
        {
            _inline = null;
            Volatile.Write(ref _inlineState, Reading);
            return false;
        }

        if (ShutdownRequested || Volatile.Read(ref _timeoutQueued) != 0)
        {
            ((IInlineReceiver)this).Wake();
        }

        return true;
    }

    // Parks only on the receiving thread (where an inline turn always runs) after a turn that saw all input there
    // was, so nothing waits unread in the pipe; a shutdown or timeout asked for meanwhile either finds it parked and
    // wakes it, or is seen here.
    private bool TryPark(bool inlineTurn)
    {
        if (_inline is null || _inputHeld != 0 || !(inlineTurn || _inline.IsReceivingThread))
        {
            return false;
        }

        // A runner that read the pipe lets go of it, and of its callback for it, so the transport may drop the
        // emptied pipe while it is parked; it takes the transport's input again when it next reads.
        if (_input is not null)
        {
            (_input, _read, _onInput) = (null, default, null);
            _inline.ReleaseInput();
        }

        Interlocked.Exchange(ref _inlineState, Parked);
        if (!ShutdownRequested && Volatile.Read(ref _timeoutQueued) == 0)
        {
            return true;
        }

        return Interlocked.CompareExchange(ref _inlineState, Reading, Parked) != Parked;
    }

    // Back from being parked or from an inline turn: a read of the pipe, handled now if it completed.
    private void ReadOn()
    {
        try
        {
            ReadNext();
        }
        catch (Exception ex)
        {
            Fail(ex);
            return;
        }

        OnInput();
    }

    private void End(ConnectionEndReason reason) => _ = EndAsync(new ConnectionOutcome(reason, null), null);

    // A reset or abort ends the connection as the peer's doing; anything else is the protocol's fault, rethrown.
    private void Fail(Exception ex)
    {
        if (IsConnectionFailure(ex))
        {
            _ = EndAsync(_writeTimedOut ? new(ConnectionEndReason.WriteTimeout, null) : new(ConnectionEndReason.Failed, ex), null);
        }
        else
        {
            _ = EndAsync(new ConnectionOutcome(ConnectionEndReason.Failed, ex), ex);
        }
    }

    // However the connection ended: the protocol hears it, both pipes are completed and the transport closed, and
    // only then does the run complete, with the outcome or the fault.
    private async Task EndAsync(ConnectionOutcome outcome, Exception? fault)
    {
        try
        {
            _ended = true;
            Outcome = outcome;
            try
            {
                _protocol?.ConnectionLost(outcome.Error);
            }
            finally
            {
                ReleaseHeldInput();
                BoundDeliveryAfterClose();
                await Output.CompleteAsync();
                await Input.CompleteAsync();
            }
        }
        catch (Exception ex)
        {
            fault = ex;
        }
        finally
        {
            _listener.Remove(this);
        }

        try
        {
            await CloseTransportAsync();
        }
        catch (Exception ex)
        {
            fault ??= ex;
        }

        if (fault is null)
        {
            _run.SetResult(outcome);
        }
        else
        {
            _run.SetException(fault);
        }
    }

    // The transport may still be sending what the protocol wrote, and a peer that does not read would keep the
    // socket, and every limit released after this connection, forever: the write timeout bounds it here, so the
    // listener's slot and budget are given back only once the socket is closed.
    private async Task CloseTransportAsync()
    {
        var closing = _connection.DisposeAsync().AsTask();
        if (closing.IsCompleted || _listener.WriteTimeoutTicks <= 0)
        {
            await closing;
            return;
        }

        using var waiting = new CancellationTokenSource();
        var timeout = Task.Delay(_listener.Options.WriteTimeout, _listener.Time, waiting.Token);
        if (await Task.WhenAny(closing, timeout) == timeout)
        {
            _writeTimedOut = true;
            Outcome = new ConnectionOutcome(ConnectionEndReason.WriteTimeout, null);
            AbortUnread();
        }

        await waiting.CancelAsync();
        await closing;
    }

    // What the socket still holds once the transport closed it is the kernel's to deliver; the write timeout
    // bounds that too, or a peer that never reads would keep it, in LAST-ACK, for minutes. Set before the output
    // completes, since a transport may close the socket as soon as it has sent the rest.
    private void BoundDeliveryAfterClose()
    {
        if (_listener.WriteTimeoutTicks > 0 && OperatingSystem.IsLinux())
        {
            var timeout = BitConverter.GetBytes((int)_listener.Options.WriteTimeout.TotalMilliseconds);
            SetSocketOption(IpProtocolTcp, TcpUserTimeout, timeout, socket => socket.SetRawSocketOption(IpProtocolTcp, TcpUserTimeout, timeout));
        }
    }

    // Input the protocol has not consumed yet (a partial line) is charged to the budget while it is held.
    private void HoldInput(long held)
    {
        if (held != _inputHeld)
        {
            _listener.Options.MemoryBudget?.Charge(held - _inputHeld);
            _inputHeld = held;
        }
    }

    private void ReleaseHeldInput() => HoldInput(0);

    /// <summary>The runners of the listener link through these (<see cref="ProtocolConnections"/>).</summary>
    internal ProtocolConnection? PreviousInListener { get; set; }

    internal ProtocolConnection? NextInListener { get; set; }

    private bool ShutdownRequested => Volatile.Read(ref _shutdownRequested) != 0;

    // Runs at once when Kestrel asked already.
    internal void HearCloseRequest() =>
        _serverCloseRequest.UnsafeRegister(static state => ((ProtocolConnection)state!).RequestShutdown(), this);

    // Once, however Kestrel's request arrives. The listener's heartbeat goes on while the server stops, so the write
    // timeout still bounds a connection flushing to a peer that does not read.
    private void RequestShutdown()
    {
        if (Interlocked.Exchange(ref _shutdownRequested, 1) != 0)
        {
            return;
        }

        // The transport's input, not the runner's field for it: only the runner's own thread sets and clears that (the
        // timeouts below do the same).
        _transport.Input.CancelPendingRead();
        ((IInlineReceiver)this).Wake();
    }

    // Runs on the listener's heartbeat, which serves all its connections: it only decides, and leaves the closing to
    // the thread pool, since cancelling a read runs the connection's continuation inline.
    internal void OnHeartbeat()
    {
        if (_ended)
        {
            return;
        }

        if (_serverCloseRequest.IsCancellationRequested && !ShutdownRequested)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static state => state.RequestShutdown(), this, preferLocal: false);
        }

        var now = _listener.Time.GetTimestamp();
        if (Interlocked.Exchange(ref _activeSinceHeartbeat, 0) != 0)
        {
            Volatile.Write(ref _lastActivity, now);
        }

        if (Volatile.Read(ref _timeoutQueued) != 0)
        {
            return;
        }

        var flushStarted = Volatile.Read(ref _flushStarted);
        var stalled = flushStarted != 0 && _listener.WriteTimeoutTicks > 0 && now - flushStarted >= _listener.WriteTimeoutTicks;
        if ((stalled || (flushStarted == 0 && IsIdle(now))) && Interlocked.Exchange(ref _timeoutQueued, 1) == 0)
        {
            _queuedTimeoutIsWrite = stalled;
            ThreadPool.UnsafeQueueUserWorkItem(static state => state.OnTimeout(), this, preferLocal: false);
        }
    }

    private void OnTimeout()
    {
        if (_queuedTimeoutIsWrite)
        {
            _writeTimedOut = true;
            AbortUnread();
            _transport.Output.CancelPendingFlush();
            return;
        }

        // The loop checks idleness again when the read returns, so a byte that arrived meanwhile keeps it open.
        _transport.Input.CancelPendingRead();
        ((IInlineReceiver)this).Wake();
        Volatile.Write(ref _timeoutQueued, 0);
    }

    // The replies the peer did not read are dropped: a reset rather than a FIN, so the kernel does not keep
    // the socket to deliver them after the process let it go.
    private void AbortUnread()
    {
        if (_listener.Logger.IsEnabled(LogLevel.Information))
        {
            var peer = PeerAddress.Format(RemoteEndPoint);
            ConnectionLifetimeLog.WriteTimedOut(_listener.Logger, peer, _listener.Options.WriteTimeout, BytesReceived, BytesSent);
        }

        SetSocketOption(SocketLevel, Linger, ResetOnClose, static socket => socket.LingerState = new LingerOption(true, 0));
        _connection.Abort(new ConnectionAbortedException("The peer did not read its replies within the write timeout."));
    }

    // A transport that keeps no Socket (ISocketOptionFeature) is given the option's Linux bytes rather than asked
    // for a Socket, which it would make; on a Socket, onSocket sets it.
    private void SetSocketOption(int level, int name, byte[] value, Action<Socket> onSocket)
    {
        if (_connection.Features.Get<ISocketOptionFeature>() is { } options)
        {
            options.TrySetOption(level, name, value);
            return;
        }

        try
        {
            if (_connection.Features.Get<IConnectionSocketFeature>()?.Socket is { } socket)
            {
                onSocket(socket);
            }
        }
        catch (Exception ex) when (ex is ObjectDisposedException or SocketException)
        {
            // Closed meanwhile: nothing is left to bound or drop.
        }
    }

    // A turn only notes that it ran; the next heartbeat takes that as the time of the activity, as Kestrel's own
    // timeouts count in heartbeats. No clock is read per request, and a connection is closed at most one heartbeat
    // later than its timeout, never earlier.
    private void MarkActivity() => Volatile.Write(ref _activeSinceHeartbeat, 1);

    private bool IsIdle(long now) =>
        _listener.IdleTimeoutTicks > 0 && Volatile.Read(ref _activeSinceHeartbeat) == 0 && now - Volatile.Read(ref _lastActivity) >= _listener.IdleTimeoutTicks;

    // TCP_USER_TIMEOUT (Linux, which .NET has no name for): how long sent data may stay unacknowledged, zero
    // window included, before the kernel drops the connection.
    private const int IpProtocolTcp = 6;
    private const int TcpUserTimeout = 18;

    // SO_LINGER on, 0 s (Linux's struct linger, for ISocketOptionFeature): close resets the connection.
    private const int SocketLevel = 1;
    private const int Linger = 13;
    private static readonly byte[] ResetOnClose = [1, 0, 0, 0, 0, 0, 0, 0];

    private static bool IsConnectionFailure(Exception ex) =>
        ex is ConnectionResetException or ConnectionAbortedException or IOException or OperationCanceledException;
}
