using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using EchoHost.Shared;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace EchoHost.Transport.Linux;

/// <summary>
/// A connection of the epoll transport, as Kestrel sees any connection: a <see cref="ConnectionContext"/> with a
/// duplex pipe. Its reactor owns the input pipe's writer: readiness, resuming a paused read, an abort and the
/// final close all run on the reactor's thread, so no two threads ever write the input. Receiving sizes each
/// read by what the pipe's last block still holds, so a client that drips bytes fills one block rather than
/// taking a block per byte. The send side (<c>EpollConnection.Send.cs</c>) sends what the protocol flushed at once,
/// leaving the rest for writability only when the socket's buffer is full; it never throws, and whatever ends it,
/// the connection is still closed. <see cref="ConnectionClosed"/> fires on the thread pool when the receive side ends.
/// </summary>
internal sealed partial class EpollConnection : ConnectionContext,
    IConnectionIdFeature, IConnectionTransportFeature, IConnectionItemsFeature, IMemoryPoolFeature, IConnectionLifetimeFeature,
    IConnectionSocketFeature
{
    // What a receive asks of the pipe: the last block is reused while it has this much room, so a trickle of
    // small segments shares one block, and a new block is taken only for a bigger read.
    private const int ReceiveHint = 2048;

    private static readonly TimeSpan DeliveryPollInterval = TimeSpan.FromMilliseconds(20);

    private static long _lastKey;
    private readonly Socket _socket;
    private readonly SafeSocketHandle _handle;
    private readonly EpollReactor _reactor;
    private readonly Pipe _input;
    private readonly Pipe _output;
    private readonly CancellationTokenSource _closed = new();
    // Made when someone first waits for them, so a connection that is only open holds none.
    private TaskCompletionSource? _disposal;
    private TaskCompletionSource? _socketClosedWaiter;
    private TaskCompletionSource? _abortWaiter;
    private readonly Lock _gate = new();
    private ConnectionState _state;
    private uint _watched;
    private FlushResult _resumedFlush;
    private ConnectionAbortedException? _abortReason;
    private string? _id;
    private IDictionary<object, object?>? _items;

    public EpollConnection(Socket socket, EpollReactor reactor, EpollTransportOptions options)
    {
        _socket = socket;
        _handle = socket.SafeHandle;
        _reactor = reactor;
        Key = (ulong)Interlocked.Increment(ref _lastKey);
        MemoryPool = options.MemoryPool;
        LocalEndPoint = socket.LocalEndPoint;
        RemoteEndPoint = socket.RemoteEndPoint;
        _input = new Pipe(options.InputPipe);
        _output = new Pipe(options.OutputPipe);
        Transport = new DuplexPipe(_input.Reader, _output.Writer);
        Features = new EpollConnectionFeatures(this);
        _onOutput = OnOutput;
    }

    [Flags]
    private enum ConnectionState
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
    }

    public ulong Key { get; }

    public SafeSocketHandle Handle => _handle;

    public override string ConnectionId
    {
        get => _id ??= $"E{Key:X8}";
        set => _id = value;
    }

    public override IFeatureCollection Features { get; }

    public override IDictionary<object, object?> Items
    {
        get => _items ??= new Dictionary<object, object?>();
        set => _items = value;
    }

    public override IDuplexPipe Transport { get; set; }

    public override CancellationToken ConnectionClosed
    {
        get => _closed.Token;
        set => throw new NotSupportedException("The transport owns the connection's closed token.");
    }

    public override EndPoint? LocalEndPoint { get; set; }

    public override EndPoint? RemoteEndPoint { get; set; }

    public MemoryPool<byte> MemoryPool { get; }

    public Socket Socket => _socket;

    /// <summary>Watches the socket and starts sending; 0, or -errno when epoll refused it (the caller disposes).</summary>
    public int Start()
    {
        var result = _reactor.Watch(this, LinuxCalls.In);
        lock (_gate)
        {
            if (result == 0)
            {
                _watched = LinuxCalls.In;
            }
            else
            {
                _state |= ConnectionState.Unwatched;
            }
        }

        ReadOutput();
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

        if ((events & LinuxCalls.In) == 0 && !hungUp)
        {
            return;
        }

        // Only this thread sets or clears these two flags, so reading them needs no lock.
        if ((_state & (ConnectionState.ReadingPaused | ConnectionState.ReceiveEnded)) == 0)
        {
            Receive();
        }
        else if (hungUp)
        {
            // A hang-up is reported whatever the interest, on every wait: a connection that is not reading
            // leaves epoll until it reads again, or the reactor would spin on it.
            lock (_gate)
            {
                Unwatch();
            }
        }
    }

    /// <summary>Called on the reactor's thread once the protocol consumed enough of a paused input.</summary>
    public void OnResume()
    {
        bool unwatched;
        lock (_gate)
        {
            _state &= ~ConnectionState.ReadingPaused;
            if ((_state & ConnectionState.ReceiveEnded) != 0)
            {
                return;
            }

            unwatched = (_state & ConnectionState.Unwatched) != 0;
            UpdateInterest();
        }

        if (_resumedFlush.IsCompleted)
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

    /// <summary>Called on the reactor's thread after <see cref="Abort(ConnectionAbortedException)"/>: the input ends with the reason.</summary>
    public void OnAborted() => EndReceive(_abortReason);

    public override void Abort(ConnectionAbortedException abortReason)
    {
        TaskCompletionSource? waiter;
        lock (_gate)
        {
            if ((_state & (ConnectionState.Aborted | ConnectionState.Closed)) != 0)
            {
                return;
            }

            // As Kestrel's socket transport does: shut both directions, so the peer learns now.
            _abortReason = abortReason;
            _state |= ConnectionState.Aborted;
            ShutdownUnlessClosed(LinuxCalls.ShutdownBoth);
            waiter = _abortWaiter;
        }

        WakeWriter(false);
        _output.Reader.CancelPendingRead();
        waiter?.TrySetResult();
        _reactor.Post(this, ReactorWork.Abort);
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
                await _input.Reader.CompleteAsync();
                await _output.Writer.CompleteAsync();
                await SendEndedAsync();
                await UntilDeliveredAsync();
                var closed = SocketClosedAsync();
                _reactor.Post(this, ReactorWork.Close);
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

    // A socket closed with bytes still queued would leave them to the kernel, out of sight of the process and its
    // limits: the connection stays until the peer acknowledged the last byte, or until it is aborted. The queue
    // counts the FIN the send side ended with, which alone is the kernel's to retransmit.
    private async Task UntilDeliveredAsync()
    {
        Task? aborted = null;
        while (!IsAborted && LinuxCalls.Undelivered(_handle) > 1)
        {
            aborted ??= AbortedAsync();
            await Task.WhenAny(Task.Delay(DeliveryPollInterval, _reactor.Time), aborted);
        }
    }

    private Task AbortedAsync()
    {
        lock (_gate)
        {
            return WhenReached(ConnectionState.Aborted, ref _abortWaiter);
        }
    }

    private Task SocketClosedAsync()
    {
        lock (_gate)
        {
            return WhenReached(ConnectionState.SocketClosed, ref _socketClosedWaiter);
        }
    }

    // Under _gate: done once the state has the flag; the waiter is made only for someone who has to wait.
    private Task WhenReached(ConnectionState flag, ref TaskCompletionSource? waiter) =>
        (_state & flag) != 0 ? Task.CompletedTask : (waiter ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    /// <summary>Called on the reactor's thread, or by a stopped reactor: the socket leaves epoll and closes.</summary>
    public void Close()
    {
        EndReceive(null);
        lock (_gate)
        {
            if ((_state & ConnectionState.Closed) != 0)
            {
                return;
            }

            Unwatch();
            _state |= ConnectionState.Closed;
        }

        WakeWriter(false);
        _socket.Dispose();
        TaskCompletionSource? waiter;
        lock (_gate)
        {
            _state |= ConnectionState.SocketClosed;
            waiter = _socketClosedWaiter;
        }

        waiter?.TrySetResult();
    }

    private enum ReceiveStep
    {
        Continue,
        Wait,
        Ended,
    }

    private ReceiveStep Receive()
    {
        var memory = _input.Writer.GetMemory(ReceiveHint);
        var received = LinuxCalls.Receive(_handle, memory.Span);
        if (received > 0)
        {
            _input.Writer.Advance(received);
            var flush = _input.Writer.FlushAsync();
            if (!flush.IsCompleted)
            {
                // The protocol has not consumed what it has: stop reading until it does.
                lock (_gate)
                {
                    _state |= ConnectionState.ReadingPaused;
                    UpdateInterest();
                }

                _ = ResumeWhenFlushedAsync(flush);
                return ReceiveStep.Wait;
            }

            if (flush.Result.IsCompleted)
            {
                EndReceive(null);
                return ReceiveStep.Ended;
            }

            return ReceiveStep.Continue;
        }

        if (received == -LinuxCalls.WouldBlock || received == -LinuxCalls.Interrupted)
        {
            return ReceiveStep.Wait;
        }

        EndReceive(received == 0 ? _abortReason : _abortReason ?? (Exception)new ConnectionResetException($"The connection was reset (errno {-received})."));
        return ReceiveStep.Ended;
    }

    private async Task ResumeWhenFlushedAsync(ValueTask<FlushResult> flush)
    {
        _resumedFlush = await flush;
        _reactor.Post(this, ReactorWork.Resume);
    }

    // On the reactor's thread only: the input pipe's writer is completed here and nowhere else.
    private void EndReceive(Exception? error)
    {
        lock (_gate)
        {
            if ((_state & ConnectionState.ReceiveEnded) != 0)
            {
                return;
            }

            _state |= ConnectionState.ReceiveEnded;
            UpdateInterest();
        }

        _input.Writer.Complete(error);
        ThreadPool.UnsafeQueueUserWorkItem(static connection => connection.FireConnectionClosed(), this, preferLocal: false);
    }

    // Every callback runs, whichever of them throws; a failing one is the application's bug, logged, never the transport's end.
    private void FireConnectionClosed()
    {
        try
        {
            _closed.Cancel(throwOnFirstException: false);
        }
        catch (AggregateException ex)
        {
            ClosedCallbackFailed(_reactor.Logger, ConnectionId, ex);
        }
    }

    private bool IsAborted => Volatile.Read(ref _abortReason) is not null;

    // Under _gate: epoll is told what the state asks for, reading unless paused or ended, writing while waiting to.
    private void UpdateInterest()
    {
        if ((_state & (ConnectionState.Unwatched | ConnectionState.Closed)) != 0)
        {
            return;
        }

        var interest = ((_state & (ConnectionState.ReadingPaused | ConnectionState.ReceiveEnded)) == 0 ? LinuxCalls.In : 0)
            | ((_state & ConnectionState.WaitingToWrite) != 0 ? LinuxCalls.Out : 0);
        if (interest != _watched && _reactor.Change(this, interest) == 0)
        {
            _watched = interest;
        }
    }

    // The application may have closed the socket itself (IConnectionSocketFeature): its handle then refuses the
    // call, and the descriptor number, perhaps another socket's by now, is never used.
    private void ShutdownUnlessClosed(int how)
    {
        try
        {
            LinuxCalls.Shutdown(_handle, how);
        }
        catch (ObjectDisposedException)
        {
        }
    }

    // Under _gate.
    private void Unwatch()
    {
        if ((_state & (ConnectionState.Unwatched | ConnectionState.Closed)) == 0)
        {
            _reactor.Unwatch(this);
            _state |= ConnectionState.Unwatched;
        }
    }

    [LoggerMessage(EventId = 62, Level = LogLevel.Error, Message = "A ConnectionClosed callback of connection {ConnectionId} threw")]
    private static partial void ClosedCallbackFailed(ILogger logger, string connectionId, Exception exception);

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}
