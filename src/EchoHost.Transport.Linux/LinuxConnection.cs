using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using EchoHost.Connections;
using EchoHost.Shared;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace EchoHost.Transport.Linux;

/// <summary>
/// A connection of the Linux transport, as Kestrel sees any connection: a <see cref="ConnectionContext"/> with a
/// duplex pipe. What both engines share lives here: the pipes, abort, the orderly dispose (send what was written,
/// wait for the peer to acknowledge it, close) and the end of input. Each pipe is made when something first uses
/// it, so a connection whose runner is parked on the inline path and has never held unconsumed input or unsent
/// output holds neither. The engine (<see cref="EpollConnection"/>,
/// <see cref="IoUringConnection"/>) moves the bytes. Its reactor owns the input pipe's writer: readiness or
/// completions, resuming a paused read, an abort and the final close all run on the reactor's thread, so no two
/// threads ever write the input. <see cref="ConnectionClosed"/> fires on the thread pool when the receive side ends.
/// </summary>
internal abstract partial class LinuxConnection : ConnectionContext,
    IConnectionIdFeature, IConnectionTransportFeature, IConnectionItemsFeature, IMemoryPoolFeature, IConnectionLifetimeFeature,
    IConnectionSocketFeature, ISocketOptionFeature, IDuplexPipe
{
    private static readonly TimeSpan DeliveryPollInterval = TimeSpan.FromMilliseconds(20);

    private static long _lastKey;
    private readonly LinuxTransportOptions _options;
    // Made when someone first waits for them, so a connection that is only open holds none.
    private CancellationTokenSource? _closed;
    private TaskCompletionSource? _disposal;
    private TaskCompletionSource? _socketClosedWaiter;
    private TaskCompletionSource? _abortWaiter;
    private ConnectionAbortedException? _abortReason;
    private string? _id;
    private IDictionary<object, object?>? _items;
    private Pipe? _input;
    private Pipe? _output;
    private IInlineReceiver? _receiver;
    // The peer, accepted or set by middleware (a PROXY header's client); one that is not an IP endpoint is kept where
    // the base keeps it.
    private CompactEndPoint _remote;
    private bool _remoteWasSet;
    private Socket? _socket;
    private bool _receiverAttached;
    private bool _flushingInput;
    private int _readerAnnounced;

    protected LinuxConnection(AcceptedSocket socket, LinuxTransportOptions options)
    {
        Handle = socket.Descriptor;
        LocalEndPoint = socket.Local;
        _remote = socket.Remote;
        Key = (ulong)Interlocked.Increment(ref _lastKey);
        _options = options;
        Transport = this;
    }

    [Flags]
    protected enum ConnectionState
    {
        None = 0,
        ReadingPaused = 1,
        ReceiveEnded = 2,
        WaitingToWrite = 4,
        Aborted = 8,
        Unwatched = 16,
        Closed = 32,
        SendEnded = 64,
        SocketClosed = 128,
        AwaitingReader = 256,
        ClosedFired = 512,
        // The input pipe's reader was handed out since the runner last let go of it (or attached).
        InputTaken = 1024,
        // The parked runner holds no reader of the input pipe: the pipe may go once it is empty.
        InputReleasable = 2048,
        // The output pipe's writer was handed out (to middleware, a runner off the inline path, dispose): only the
        // engine's own writes may be let go with the pipe, so from then on it stays.
        OutputTaken = 4096,
    }

    /// <summary>Unique in the process: the connection's id.</summary>
    public ulong Key { get; }

    /// <summary>What its reactor's events or completions carry to find it, given by the reactor's <see cref="ConnectionTable{T}"/>.</summary>
    public ulong Token { get; set; }

    public SocketDescriptor Handle { get; }

    // For calls on the reactor's thread, which alone closes the socket (Close is posted to it): no reference on the
    // handle is needed. Once closed, -1 fails a stray call with EBADF rather than reach a reused number.
    internal int Descriptor => Handle.IsClosed ? -1 : (int)Handle.DangerousGetHandle();

    public override string ConnectionId
    {
        get => _id ??= $"E{Key:X8}";
        set => _id = value;
    }

    public override IDictionary<object, object?> Items
    {
        get => _items ??= new Dictionary<object, object?>();
        set => _items = value;
    }

    public override IDuplexPipe Transport { get; set; }

    public override CancellationToken ConnectionClosed
    {
        get
        {
            lock (Gate)
            {
                return (State & ConnectionState.ClosedFired) != 0 ? new CancellationToken(canceled: true) : (_closed ??= new()).Token;
            }
        }

        set => throw new NotSupportedException("The transport owns the connection's closed token.");
    }

    public override EndPoint? RemoteEndPoint
    {
        get => _remoteWasSet ? base.RemoteEndPoint : _remote.ToEndPoint();
        set
        {
            if (value is IPEndPoint ip)
            {
                (_remote, _remoteWasSet) = (new CompactEndPoint(ip), false);
            }
            else
            {
                (base.RemoteEndPoint, _remoteWasSet) = (value, true);
            }
        }
    }

    public MemoryPool<byte> MemoryPool => _options.MemoryPool;

    public bool TrySetOption(int level, int name, ReadOnlySpan<byte> value)
    {
        try
        {
            return LinuxCalls.SetOption(Handle, level, name, value) == 0;
        }
        catch (ObjectDisposedException)
        {
            return false;
        }
    }

    /// <summary>The transport's own ends, which <see cref="Transport"/> starts as: middleware may put other pipes there.</summary>
    PipeReader IDuplexPipe.Input => TakeInput();

    PipeWriter IDuplexPipe.Output => TakeOutput();

    /// <summary>
    /// Made when first asked for, over the connection's descriptor without owning it: disposing it does not end the
    /// connection (<see cref="Abort(ConnectionAbortedException)"/> does), and it is disposed when the socket closes.
    /// </summary>
    public Socket Socket
    {
        get
        {
            lock (Gate)
            {
                ObjectDisposedException.ThrowIf((State & ConnectionState.Closed) != 0, this);
                return _socket ??= new Socket(new SafeSocketHandle(Handle.DangerousGetHandle(), ownsHandle: false));
            }
        }
    }

    protected Pipe Input => Volatile.Read(ref _input) ?? OpenInput();

    protected Pipe Output => Volatile.Read(ref _output) ?? OpenOutput();

    /// <summary>The output pipe's writer, made when first asked for.</summary>
    public PipeWriter OutputWriter => Output.Writer;

    /// <summary>What the input pipe holds unflushed; 0 while there is no pipe.</summary>
    protected long UnflushedInput => Volatile.Read(ref _input) is { } input ? input.Writer.UnflushedBytes : 0;

    protected Lock Gate { get; } = new();

    /// <summary>Under <see cref="Gate"/>, except the flags that only the reactor's thread sets (each engine says which).</summary>
    protected ConnectionState State { get; set; }

    protected FlushResult ResumedFlush { get; private set; }

    protected bool IsAborted => Volatile.Read(ref _abortReason) is not null;

    protected ConnectionAbortedException? AbortReason => Volatile.Read(ref _abortReason);

    /// <summary>
    /// The runner that reads this connection on the inline path, where the engine offers one: set on the reactor's
    /// thread, the only one that receives, so no bytes go into the pipe behind a runner that is already parked.
    /// </summary>
    protected IInlineReceiver? InlineReceiver => _receiverAttached ? _receiver : null;

    /// <summary>
    /// True for an engine that leaves bytes in the socket until the connection has a reader (<see cref="OnReaderArrived"/>),
    /// so that a runner attaching parked gets its first bytes inline instead of from a pipe made for them.
    /// </summary>
    protected virtual bool WaitsForReader => false;

    /// <summary>Read on the reactor's thread: the runner attached, or something took the input pipe.</summary>
    protected bool HasReader { get; private set; }

    protected abstract TimeProvider Time { get; }

    protected abstract ILogger Logger { get; }

    /// <summary>Joins the reactor and starts sending; 0, or -errno when the reactor refused it (the caller disposes).</summary>
    public abstract int Start();

    /// <summary>Called on the reactor's thread once the protocol consumed enough of a paused input.</summary>
    public abstract void OnResume();

    /// <summary>Called on the reactor's thread, or by a stopped reactor: the socket leaves the reactor and closes.</summary>
    public abstract void Close();

    /// <summary>
    /// <see cref="IInlineReceiveFeature.Attach"/>, for the engines that offer the inline path: only a runner that reads
    /// and writes this connection's own pipes may take it, and not once the input ended (it reads the end instead).
    /// </summary>
    public bool Attach(IInlineReceiver receiver, IDuplexPipe transport)
    {
        lock (Gate)
        {
            if (transport != this || (State & ConnectionState.ReceiveEnded) != 0)
            {
                return false;
            }

            _receiver = receiver;
            State = (State & ~ConnectionState.InputTaken) | ConnectionState.InputReleasable;
        }

        Post(ReactorWork.Attach);
        return true;
    }

    /// <summary>
    /// <see cref="IInlineReceiveFeature.ReleaseInput"/>, on the reactor's thread: the pipe goes now, or, when the
    /// runner parked inside this engine's flush of it, once the flush returned.
    /// </summary>
    public void ReleaseInput()
    {
        lock (Gate)
        {
            State = (State & ~ConnectionState.InputTaken) | ConnectionState.InputReleasable;
        }

        if (!_flushingInput)
        {
            ReleaseEmptyInput();
        }
    }

    /// <summary>On the reactor's thread: flushes the input pipe, the only way an engine does.</summary>
    protected ValueTask<FlushResult> FlushInput()
    {
        _flushingInput = true;
        try
        {
            return Input.Writer.FlushAsync();
        }
        finally
        {
            _flushingInput = false;
        }
    }

    /// <summary>
    /// On the reactor's thread: lets the input pipe go when the parked runner holds no reader of it, nobody took its
    /// reader since, and it holds nothing; the next use makes another. True when there is no pipe left.
    /// </summary>
    protected bool ReleaseEmptyInput()
    {
        Pipe? input;
        lock (Gate)
        {
            input = _input;
            if (input is null)
            {
                return true;
            }

            const ConnectionState Kept = ConnectionState.InputTaken | ConnectionState.ReceiveEnded | ConnectionState.ReadingPaused;
            if ((State & (ConnectionState.InputReleasable | Kept)) != ConnectionState.InputReleasable || input.Writer.UnflushedBytes != 0)
            {
                return false;
            }

            // A runner parks only once it has read all the pipe held, so this is a guard: bytes still in a pipe that
            // was dropped would be lost to the protocol. A cancelled read (a shutdown's, a timeout's) is kept for the
            // next reader too: the guard's read takes it, so it is put back.
            if (input.Reader.TryRead(out var unread))
            {
                input.Reader.AdvanceTo(unread.Buffer.Start);
                if (unread.IsCanceled)
                {
                    input.Reader.CancelPendingRead();
                }

                return false;
            }

            _input = null;
            State &= ~ConnectionState.InputReleasable;
        }

        input.Reader.Complete();
        input.Writer.Complete();
        return true;
    }

    /// <summary>On the reactor's thread: runs what was posted to it; a fault is this connection's end, never the reactor's.</summary>
    public void RunPosted(ReactorWork work)
    {
        try
        {
            switch (work)
            {
                case ReactorWork.Resume:
                    OnResume();
                    break;
                case ReactorWork.Abort:
                    OnAborted();
                    break;
                case ReactorWork.Send:
                    OnSendPosted();
                    break;
                case ReactorWork.Attach:
                    OnAttached();
                    break;
                case ReactorWork.Reader:
                    ReaderArrived();
                    break;
                default:
                    Close();
                    break;
            }
        }
        catch (Exception ex)
        {
            Fail(ex);
        }
    }

    /// <summary>A fault of the transport while serving this connection: logged, and the connection aborted.</summary>
    public void Fail(Exception ex)
    {
        TransportFault(Logger, ConnectionId, ex);
        try
        {
            Abort(new ConnectionAbortedException("The transport failed.", ex));
        }
        catch (Exception abortFailure)
        {
            TransportFault(Logger, ConnectionId, abortFailure);
        }
    }

    /// <summary>Called on the reactor's thread after <see cref="Abort(ConnectionAbortedException)"/>: the input ends with the reason.</summary>
    public virtual void OnAborted() => EndReceive(_abortReason);

    public override void Abort(ConnectionAbortedException abortReason)
    {
        TaskCompletionSource? waiter;
        lock (Gate)
        {
            if ((State & (ConnectionState.Aborted | ConnectionState.Closed)) != 0)
            {
                return;
            }

            // As Kestrel's socket transport does: shut both directions, so the peer learns now.
            _abortReason = abortReason;
            State |= ConnectionState.Aborted;
            ShutdownUnlessClosed(LinuxCalls.ShutdownBoth);
            waiter = _abortWaiter;
        }

        OnAbortedAnyThread();
        Volatile.Read(ref _output)?.Reader.CancelPendingRead();
        waiter?.TrySetResult();
        Post(ReactorWork.Abort);
    }

    /// <summary>
    /// Sends what the protocol wrote, waits for the peer to acknowledge it, then closes: while the peer does not
    /// read, this waits, which is why whoever runs the protocol bounds it (and aborts). A second call waits for the first.
    /// </summary>
    public override async ValueTask DisposeAsync()
    {
        var mine = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var first = Interlocked.CompareExchange(ref _disposal, mine, null);
        if (first is null)
        {
            try
            {
                // The transport's own ends: middleware may have put other pipes in Transport meanwhile.
                await Input.Reader.CompleteAsync();
                await TakeOutput().CompleteAsync();
                await SendEndedAsync();
                await UntilDeliveredAsync();
                var closed = SocketClosedAsync();
                Post(ReactorWork.Close);
                await closed;
            }
            finally
            {
                mine.TrySetResult();
            }
        }

        await (first ?? mine).Task;
        await base.DisposeAsync();
    }

    /// <summary>Asks the reactor to run <paramref name="work"/> for this connection on its thread.</summary>
    protected abstract void Post(ReactorWork work);

    /// <summary>On the reactor's thread: a send that a flush on another thread handed over (the io_uring engine's only).</summary>
    protected virtual void OnSendPosted() => throw new NotSupportedException("Only the io_uring engine hands sends to its reactor.");

    /// <summary>Whatever the engine must do at once, on the aborting thread, when the connection is aborted.</summary>
    protected abstract void OnAbortedAnyThread();

    /// <summary>Under <see cref="Gate"/>: the receive side paused, resumed or ended.</summary>
    protected abstract void OnReceiveStateChanged();

    /// <summary>On the reactor's thread, once, for an engine that <see cref="WaitsForReader"/>: the connection has a reader now.</summary>
    protected virtual void OnReaderArrived()
    {
    }

    // Bytes received before the runner attached are in the pipe, ahead of anything received from now on: it reads
    // them first, and parks again on this thread once it has read all there was. A pipe middleware read all of
    // (a PROXY header) goes instead.
    private void OnAttached()
    {
        _receiverAttached = true;
        ReaderArrived();
        if (!ReleaseEmptyInput())
        {
            _receiver!.Wake();
        }
    }

    private void ReaderArrived()
    {
        if (!HasReader)
        {
            HasReader = true;
            OnReaderArrived();
        }
    }

    // Someone reads the input pipe (middleware, a runner off the inline path): an engine that waits for a reader is told once.
    private PipeReader TakeInput()
    {
        if (WaitsForReader && Interlocked.Exchange(ref _readerAnnounced, 1) == 0)
        {
            Post(ReactorWork.Reader);
        }

        lock (Gate)
        {
            State |= ConnectionState.InputTaken;
            return (_input ??= new Pipe(_options.InputPipe)).Reader;
        }
    }

    private PipeWriter TakeOutput()
    {
        lock (Gate)
        {
            State |= ConnectionState.OutputTaken;
        }

        return Output.Writer;
    }

    private Pipe OpenInput()
    {
        lock (Gate)
        {
            return _input ??= new Pipe(_options.InputPipe);
        }
    }

    // The send side reads the output from when it exists; one made after sending ended is refused at once.
    private Pipe OpenOutput()
    {
        Pipe output;
        bool sendEnded;
        lock (Gate)
        {
            if (_output is { } existing)
            {
                return existing;
            }

            output = _output = new Pipe(_options.OutputPipe);
            sendEnded = (State & ConnectionState.SendEnded) != 0;
        }

        if (sendEnded)
        {
            output.Reader.Complete(AbortReason);
        }
        else
        {
            ReadOutput(justMade: true);
        }

        return output;
    }

    // A socket closed with bytes still queued would leave them to the kernel, out of sight of the process and its
    // limits: the connection stays until the peer acknowledged the last byte, or until it is aborted. The queue
    // counts the FIN the send side ended with, which alone is the kernel's to retransmit.
    private async Task UntilDeliveredAsync()
    {
        Task? aborted = null;
        while (!IsAborted && LinuxCalls.Undelivered(Handle) > 1)
        {
            aborted ??= AbortedAsync();
            await Task.WhenAny(Task.Delay(DeliveryPollInterval, Time), aborted);
        }
    }

    private Task AbortedAsync()
    {
        lock (Gate)
        {
            return WhenReached(ConnectionState.Aborted, ref _abortWaiter);
        }
    }

    private Task SocketClosedAsync()
    {
        lock (Gate)
        {
            return WhenReached(ConnectionState.SocketClosed, ref _socketClosedWaiter);
        }
    }

    // Under Gate: done once the state has the flag; the waiter is made only for someone who has to wait.
    private Task WhenReached(ConnectionState flag, ref TaskCompletionSource? waiter) =>
        (State & flag) != 0 ? Task.CompletedTask : (waiter ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    /// <summary>The socket is closed: the last step of <see cref="Close"/>, which dispose waits for.</summary>
    protected void CloseSocket()
    {
        // Once the connection is Closed no Socket is made over the descriptor, so the one read here is the last.
        Volatile.Read(ref _socket)?.Dispose();
        Handle.Dispose();
        TaskCompletionSource? waiter;
        lock (Gate)
        {
            State |= ConnectionState.SocketClosed;
            waiter = _socketClosedWaiter;
        }

        waiter?.TrySetResult();
    }

    /// <summary>
    /// On the reactor's thread, after a flush the protocol has not kept up with: reading stops until the protocol
    /// consumed enough, and resumes on the reactor's thread (<see cref="OnResume"/>).
    /// </summary>
    protected void PauseReading(ValueTask<FlushResult> flush)
    {
        lock (Gate)
        {
            State |= ConnectionState.ReadingPaused;
            OnReceiveStateChanged();
        }

        _ = ResumeWhenFlushedAsync(flush);
    }

    /// <summary>Under <see cref="Gate"/>, on the reactor's thread: false when the input ended while it was paused.</summary>
    protected bool ClearReadingPaused()
    {
        State &= ~ConnectionState.ReadingPaused;
        return (State & ConnectionState.ReceiveEnded) == 0;
    }

    private async Task ResumeWhenFlushedAsync(ValueTask<FlushResult> flush)
    {
        ResumedFlush = await flush;
        Post(ReactorWork.Resume);
    }

    /// <summary>On the reactor's thread only: the input pipe's writer is completed here and nowhere else.</summary>
    protected void EndReceive(Exception? error)
    {
        lock (Gate)
        {
            if ((State & ConnectionState.ReceiveEnded) != 0)
            {
                return;
            }

            State |= ConnectionState.ReceiveEnded;
            OnReceiveStateChanged();
        }

        Input.Writer.Complete(error);

        // A parked receiver waits on no read of the pipe: it learns of the end here, attached yet or not.
        _receiver?.Wake();
        ThreadPool.UnsafeQueueUserWorkItem(static connection => connection.FireConnectionClosed(), this, preferLocal: false);
    }

    /// <summary>The error a receive of -errno ends the input with (0: the peer closed, or an abort's reason).</summary>
    protected Exception? ReceiveError(int received) =>
        received == 0 ? _abortReason : _abortReason ?? (Exception)new ConnectionResetException($"The connection was reset (errno {-received}).");

    // Every callback runs, whichever of them throws; a failing one is the application's bug, logged, never the transport's end.
    private void FireConnectionClosed()
    {
        CancellationTokenSource? closed;
        lock (Gate)
        {
            State |= ConnectionState.ClosedFired;
            closed = _closed;
        }

        try
        {
            closed?.Cancel(throwOnFirstException: false);
        }
        catch (AggregateException ex)
        {
            ClosedCallbackFailed(Logger, ConnectionId, ex);
        }
    }

    // An abort may race the close: a closed descriptor refuses the call, and its number, perhaps another socket's
    // by now, is never used.
    protected void ShutdownUnlessClosed(int how)
    {
        try
        {
            LinuxCalls.Shutdown(Handle, how);
        }
        catch (ObjectDisposedException)
        {
        }
    }

    [LoggerMessage(EventId = 60, Level = LogLevel.Error, Message = "The Linux transport failed serving connection {ConnectionId}; aborting it")]
    private static partial void TransportFault(ILogger logger, string connectionId, Exception exception);

    [LoggerMessage(EventId = 62, Level = LogLevel.Error, Message = "A ConnectionClosed callback of connection {ConnectionId} threw")]
    private static partial void ClosedCallbackFailed(ILogger logger, string connectionId, Exception exception);
}
