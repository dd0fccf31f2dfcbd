using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Sockets;
using EchoHost.Shared;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace EchoHost.Transport.Linux;

/// <summary>
/// One thread and one io_uring serving many connections. Each turn of its loop is one <c>io_uring_enter</c>: it submits
/// every send and receive the last turn queued and waits for completions (the eventfd's poll, and a receive queued
/// after the socket was emptied, are multishot). The protocol runs inline, on this thread, on a receive completion's
/// bytes (handed to a parked runner directly, or else through the connection's pipe), so the reply it writes is queued
/// for the same submission as everyone else's. Work that must run on this thread (a send flushed on another thread,
/// resuming a paused read, an abort, the final close) is queued and the loop woken through an eventfd, which the ring
/// polls. Stopping aborts the connections, waits for them to close up to <see cref="IReactor.StopTimeout"/>, then
/// closes the rest.
/// </summary>
internal sealed partial class IoUringReactor : IReactor
{
    private const uint Entries = 4096;
    private const ushort BufferCount = 64;
    private const int BufferSize = 64 * 1024;

    // A multishot receive takes up to this much in all, at most this much at a time, then ends: under one buffer's
    // worth, what a single receive could take after the connection's reading paused.
    private const int MultishotLimit = BufferSize / 2;
    private const int MaxInlineOutput = 64 * 1024;
    private const int MaxIdleInlineSends = 256;
    private const int NonBlocking = 0x800;
    private const uint PollIn = 1;
    private const int StoppingWaitMilliseconds = 50;
    private const ulong WakeData = 0;

    // A cancellation of a listener's poll: an operation no connection's token makes, so its completion is passed over.
    private const ulong ListenerCancelData = (ulong)Operation.Cancel;
    private static readonly TimeSpan CancelTimeout = TimeSpan.FromSeconds(1);

    private readonly ConnectionTable<IoUringConnection> _connections = new();
    private readonly ConcurrentQueue<(IoUringConnection Connection, ReactorWork Work)> _work = new();
    private readonly WatchedListeners _listeners = new();
    private readonly ConcurrentQueue<(ListenerReadiness Listener, TaskCompletionSource? Unwatched)> _listenerWork = new();
    private readonly Dictionary<ulong, TaskCompletionSource> _unwatching = [];
    private readonly LinuxTransportOptions _options;
    private readonly int _wake;
    private readonly Thread _thread;
    private readonly byte[] _received;
    private readonly Stack<InlineSend> _inlineSends = new();
    private readonly TaskCompletionSource<int> _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Ring? _ring;
    private ProvidedBuffers? _buffers;
    private int _threadId;
    private int _heldBuffers;
    private bool _multishotRefused;
    private volatile bool _stopping;
    private volatile bool _stopped;

    public IoUringReactor(int index, LinuxTransportOptions options, TimeProvider time, ILogger logger)
    {
        _options = options;
        Time = time;
        Logger = logger;

        // A turn's output is sent from the pool's blocks, at most one sendmsg's worth, so a turn that writes more goes
        // through the pipe.
        var pooled = (long)options.MemoryPool.MaxBufferSize * LinuxCalls.MaxGather;
        _received = GC.AllocateUninitializedArray<byte>(BufferCount * BufferSize, pinned: true);
        InlineOutput = new InlineOutput(pooled is > 0 and < MaxInlineOutput ? (int)pooled : MaxInlineOutput, _received);
        _wake = LinuxCalls.EventFd(0, NonBlocking);
        if (_wake < 0)
        {
            throw new IOException($"The io_uring transport could not create its eventfd (errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()}).");
        }

        // The ring is made on the thread that uses it: with SINGLE_ISSUER, the kernel lets only that thread submit.
        _thread = new Thread(Run) { IsBackground = true, Name = $"EchoHost io_uring {index}" };
        _thread.Start();
        var error = _started.Task.GetAwaiter().GetResult();
        if (error != 0)
        {
            _thread.Join();
            LinuxCalls.Close(_wake);
            throw new IOException($"The io_uring transport could not set up its ring ({IoUringSupport.Explain(error)}).");
        }
    }

    /// <summary>What a submission for a connection does, kept in its user data's two low bits; no token is 0, so a poll's is never the wake's.</summary>
    public enum Operation : ulong
    {
        Poll = 0,
        Receive = 1,
        Send = 2,
        Cancel = 3,
    }

    public ILogger Logger { get; }

    public TimeProvider Time { get; }

    public InlineOutput InlineOutput { get; }

    /// <summary>True on the ring's own thread, the only one that may queue operations.</summary>
    public bool OnThread => Environment.CurrentManagedThreadId == _threadId;

    public LinuxConnection Connect(AcceptedSocket accepted) => new IoUringConnection(accepted, this, _options);

    /// <summary>A multishot poll on the listening socket, queued by this reactor's thread: one completion per arrival.</summary>
    public int Watch(ListenerReadiness listener)
    {
        if (_stopping)
        {
            return -LinuxCalls.ShuttingDown;
        }

        PostListenerWork(listener, null);
        return 0;
    }

    /// <summary>The wake makes the next turn come at once, whatever else is ready by then.</summary>
    public void Requeue(ListenerReadiness listener)
    {
        _listeners.Requeue(listener);
        LinuxCalls.Signal(_wake);
    }

    /// <summary>The poll is cancelled, and holds the socket until its last completion: done then.</summary>
    public ValueTask UnwatchAsync(ListenerReadiness listener)
    {
        var unwatched = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        PostListenerWork(listener, unwatched);
        return new ValueTask(unwatched.Task);
    }

    // Work queued as the thread stops may miss its last look at the queue: whoever sees it stopped runs what is left.
    private void PostListenerWork(ListenerReadiness listener, TaskCompletionSource? unwatched)
    {
        _listenerWork.Enqueue((listener, unwatched));
        if (_stopped)
        {
            RunListenerWork();
        }
        else
        {
            LinuxCalls.Signal(_wake);
        }
    }

    /// <summary>0, or -ESHUTDOWN once stopping; receiving starts on this reactor's thread.</summary>
    public int Join(IoUringConnection connection)
    {
        if (_stopping)
        {
            return -LinuxCalls.ShuttingDown;
        }

        _connections.Add(connection);
        Post(connection, ReactorWork.Resume);
        return 0;
    }

    /// <summary>On this thread: the connection's last operation completed and its socket is closing.</summary>
    public void Leave(IoUringConnection connection) => _connections.Remove(connection.Token);

    /// <summary>Runs the work on this reactor's thread, after any completion being handled for the connection.</summary>
    public void Post(IoUringConnection connection, ReactorWork work)
    {
        if (_stopped)
        {
            // No thread is left to send or close: a send handed over now ends the connection as a close would.
            if (work is ReactorWork.Close or ReactorWork.Send)
            {
                connection.Abandon();
            }

            return;
        }

        _work.Enqueue((connection, work));

        // This thread runs the queue before it waits again: the accept loop, on it, starts its connections here.
        if (!OnThread)
        {
            LinuxCalls.Signal(_wake);
        }
    }

    /// <summary>
    /// On this thread: a receive into one of the provided buffers; true when it is a multishot one. With
    /// <paramref name="waitFirst"/>, the kernel waits for the socket to be readable before it tries, rather than try
    /// and fail first, and the receive stays queued for the next arrivals (multishot, where the kernel takes a limit
    /// for it), so a connection in ping-pong queues one receive for many requests, not one for each.
    /// </summary>
    public unsafe bool Receive(IoUringConnection connection, bool waitFirst)
    {
        var sqe = Submission(connection, Ring.OpRecv, Operation.Receive);
        sqe->Flags = Ring.SqeBufferSelect;
        sqe->BufferGroup = ProvidedBuffers.Group;
        if (!waitFirst)
        {
            return false;
        }

        sqe->IoPriority = Ring.RecvPollFirst;
        if (_multishotRefused)
        {
            return false;
        }

        sqe->IoPriority |= Ring.RecvMultishot;
        sqe->Length = MultishotLimit;
        sqe->ReceiveLimit = MultishotLimit;
        return true;
    }

    /// <summary>
    /// On this thread: the kernel refused a multishot receive's limit (EINVAL: it predates the limit). Without it a
    /// multishot receive would go on taking buffers after the connection's reading paused, so receives are one at a
    /// time from now on.
    /// </summary>
    public void RefuseMultishot()
    {
        if (!_multishotRefused)
        {
            _multishotRefused = true;
            MultishotRefused(Logger, _thread.Name);
        }
    }

    /// <summary>On this thread: a send of pinned bytes, from <paramref name="data"/> or, with a null one, of the message.</summary>
    public unsafe void Send(IoUringConnection connection, byte* data, int length, void* message)
    {
        var sqe = Submission(connection, message is null ? Ring.OpSend : Ring.OpSendMsg, Operation.Send);
        sqe->Address = message is null ? (ulong)data : (ulong)message;
        sqe->Length = message is null ? (uint)length : 1;
        sqe->OpFlags = LinuxCalls.NoSignal;
    }

    /// <summary>On this thread: a one-shot poll that completes when the peer shuts down its sending side (or the socket fails).</summary>
    public unsafe void PollLeaving(IoUringConnection connection)
    {
        var sqe = Submission(connection, Ring.OpPollAdd, Operation.Poll);
        sqe->OpFlags = LinuxCalls.ReadHangUp;
    }

    /// <summary>
    /// On this thread: true while sends hold fewer than a quarter of the receive buffers. A send to a client that
    /// does not read holds its buffer for as long as it waits, so these clients cannot take the receives' buffers
    /// from everyone else.
    /// </summary>
    public bool CanHoldBuffer => _heldBuffers < BufferCount / 4;

    /// <summary>On this thread: the state of an inline send, lent until <see cref="ReturnInlineSend"/>.</summary>
    public InlineSend RentInlineSend() => _inlineSends.TryPop(out var send) ? send : new InlineSend();

    /// <summary>On this thread: an inline send completed; its state serves the next.</summary>
    public void ReturnInlineSend(InlineSend send)
    {
        if (_inlineSends.Count < MaxIdleInlineSends)
        {
            _inlineSends.Push(send);
        }
    }

    /// <summary>On this thread: a connection's send holds a receive buffer until <see cref="ReturnBuffer"/>.</summary>
    public void HoldBuffer() => _heldBuffers++;

    /// <summary>On this thread: gives the kernel back a receive buffer a connection's send held.</summary>
    public void ReturnBuffer(ushort buffer)
    {
        _heldBuffers--;
        _buffers!.Return(buffer);
    }

    /// <summary>On this thread: cancels the connection's receive, send or poll; it completes with -ECANCELED.</summary>
    public unsafe void Cancel(IoUringConnection connection, Operation operation)
    {
        var sqe = _ring!.NextSqe();
        sqe->Opcode = Ring.OpAsyncCancel;
        sqe->Fd = -1;
        sqe->Address = UserData(connection, operation);
        sqe->UserData = UserData(connection, Operation.Cancel);
    }

    public void Dispose()
    {
        _stopping = true;
        LinuxCalls.Signal(_wake);
        if (_thread.Join(IReactor.StopTimeout + IReactor.StopTimeout))
        {
            LinuxCalls.Close(_wake);
        }
        else
        {
            StopTimedOut(Logger, _thread.Name);
        }
    }

    // The next submission queue entry, for an operation on the connection's socket. The kernel reads the number at
    // the next io_uring_enter, and it is still the connection's then: a connection closes its socket only once none
    // of its operations is pending, and each is pending from the entry written to its completion.
    private unsafe Ring.Sqe* Submission(IoUringConnection connection, byte opcode, Operation operation)
    {
        var sqe = _ring!.NextSqe();
        sqe->Opcode = opcode;
        sqe->Fd = connection.Descriptor;
        sqe->UserData = UserData(connection, operation);
        return sqe;
    }

    private static ulong UserData(IoUringConnection connection, Operation operation) => (connection.Token << 2) | (ulong)operation;

    private void Run()
    {
        _threadId = Environment.CurrentManagedThreadId;
        var error = Ring.TryCreate(Entries, out _ring);
        if (error == 0)
        {
            _buffers = ProvidedBuffers.Register(_ring!, _received, BufferCount, out error);
            if (error != 0)
            {
                _ring!.Dispose();
            }
        }

        _started.SetResult(error);
        if (error != 0)
        {
            return;
        }

        PollWake();
        Loop();

        _stopped = true;
        _listeners.StopAll();
        RunQueuedWork();
        foreach (var unwatched in _unwatching.Values)
        {
            unwatched.SetResult();
        }

        var abandoned = !_connections.IsEmpty;
        foreach (var connection in _connections.Snapshot())
        {
            connection.Abandon();
        }

        _connections.Clear();
        _ring!.Dispose();

        // An operation still in the kernel when the ring closed could yet write into a buffer: those stay allocated.
        if (!abandoned)
        {
            _buffers!.Dispose();
        }
    }

    private void Loop()
    {
        long? deadline = null;
        var closing = false;
        while (true)
        {
            if (_stopping)
            {
                deadline ??= BeginStop();
                if (_connections.IsEmpty)
                {
                    return;
                }

                if (Stopwatch.GetTimestamp() >= deadline)
                {
                    if (closing)
                    {
                        return;
                    }

                    // What is left is closed; its cancellations complete in the next turns.
                    closing = true;
                    deadline = Stopwatch.GetTimestamp() + (long)(CancelTimeout.TotalSeconds * Stopwatch.Frequency);
                    foreach (var connection in _connections.Snapshot())
                    {
                        connection.RunPosted(ReactorWork.Close);
                    }
                }
            }

            var entered = _ring!.Enter(_work.IsEmpty ? 1u : 0u, _stopping ? StoppingWaitMilliseconds : -1);
            if (entered < 0 && entered != -Ring.Busy)
            {
                RingFailed(Logger, -entered);
                Thread.Sleep(StoppingWaitMilliseconds);
            }

            Complete();
            RunQueuedWork();
        }
    }

    // Asks every connection to end; the loop then waits for their closes, up to the deadline.
    private long BeginStop()
    {
        foreach (var connection in _connections.Snapshot())
        {
            connection.Abort(new ConnectionAbortedException("The server is stopping."));
        }

        return Stopwatch.GetTimestamp() + (long)(IReactor.StopTimeout.TotalSeconds * Stopwatch.Frequency);
    }

    private void Complete()
    {
        while (true)
        {
            var completions = _ring!.Completions(out _);
            if (completions.IsEmpty)
            {
                return;
            }

            foreach (var completion in completions)
            {
                Dispatch(completion);
            }

            _ring.Consume((uint)completions.Length);
        }
    }

    private void Dispatch(in Ring.Cqe completion)
    {
        if (completion.UserData == WakeData)
        {
            LinuxCalls.Drain(_wake);
            if ((completion.Flags & Ring.CqeMore) == 0)
            {
                PollWake();
            }

            return;
        }

        if (WatchedListeners.IsListener(completion.UserData))
        {
            OnListenerPolled(completion);
            return;
        }

        var operation = (Operation)(completion.UserData & 3);
        var hasBuffer = operation == Operation.Receive && (completion.Flags & Ring.CqeBuffer) != 0;
        var buffer = (ushort)(completion.Flags >> Ring.CqeBufferShift);
        var held = false;
        if (operation != Operation.Cancel && _connections.TryGet(completion.UserData >> 2, out var connection))
        {
            try
            {
                switch (operation)
                {
                    case Operation.Receive:
                        var data = hasBuffer ? _buffers!.Data(buffer, completion.Result) : default;
                        connection.OnReceived(
                            completion.Result,
                            data,
                            hasBuffer ? buffer : -1,
                            (completion.Flags & Ring.CqeSocketNonEmpty) != 0,
                            (completion.Flags & Ring.CqeMore) != 0);
                        break;
                    case Operation.Send:
                        connection.OnSent(completion.Result);
                        break;
                    default:
                        connection.OnPolled(completion.Result);
                        break;
                }
            }
            catch (Exception ex)
            {
                // A fault in one connection is that connection's end, never the loop's.
                connection.Fail(ex);
            }

            // A send that reads from the buffer gives it back when it completes.
            held = hasBuffer && connection.Holds(buffer);
        }

        if (hasBuffer && !held)
        {
            _buffers!.Return(buffer);
        }
    }

    // A connection arrived, or the poll ended: cancelled by an unwatch, or by the kernel (then it is queued again).
    private void OnListenerPolled(in Ring.Cqe completion)
    {
        if (!_listeners.TryGet(completion.UserData, out var listener))
        {
            return;
        }

        if (completion.Result >= 0)
        {
            listener.Set();
        }

        if ((completion.Flags & Ring.CqeMore) != 0)
        {
            return;
        }

        if (_unwatching.Remove(listener.Key, out var unwatched))
        {
            _listeners.Remove(listener);
            unwatched.SetResult();
        }
        else
        {
            PollListener(listener);
        }
    }

    private unsafe void PollListener(ListenerReadiness listener)
    {
        var sqe = _ring!.NextSqe();
        sqe->Opcode = Ring.OpPollAdd;
        sqe->Fd = (int)listener.Socket.Handle;
        sqe->OpFlags = PollIn;
        sqe->Length = Ring.PollAddMulti;
        sqe->UserData = listener.Key;
    }

    private unsafe void RunListenerWork()
    {
        while (_listenerWork.TryDequeue(out var item))
        {
            if (_stopped)
            {
                item.Listener.Stop();
                item.Unwatched?.SetResult();
            }
            else if (item.Unwatched is null)
            {
                _listeners.Add(item.Listener);
                PollListener(item.Listener);
            }
            else
            {
                _unwatching[item.Listener.Key] = item.Unwatched;
                var sqe = _ring!.NextSqe();
                sqe->Opcode = Ring.OpAsyncCancel;
                sqe->Fd = -1;
                sqe->Address = item.Listener.Key;
                sqe->UserData = ListenerCancelData;
            }
        }
    }

    private unsafe void PollWake()
    {
        var sqe = _ring!.NextSqe();
        sqe->Opcode = Ring.OpPollAdd;
        sqe->Fd = _wake;
        sqe->OpFlags = PollIn;
        sqe->Length = Ring.PollAddMulti;
        sqe->UserData = WakeData;
    }

    private void RunQueuedWork()
    {
        _listeners.SetRequeued();
        RunListenerWork();
        while (_work.TryDequeue(out var item))
        {
            item.Connection.RunPosted(item.Work);
        }
    }

    [LoggerMessage(EventId = 66, Level = LogLevel.Error, Message = "io_uring_enter failed (errno {Errno}); retrying")]
    private static partial void RingFailed(ILogger logger, int errno);

    [LoggerMessage(EventId = 65, Level = LogLevel.Information, Message = "{Thread}: the kernel takes no limit for a multishot receive, so receives are queued one at a time")]
    private static partial void MultishotRefused(ILogger logger, string? thread);

    [LoggerMessage(EventId = 67, Level = LogLevel.Warning, Message = "{Thread} did not stop in time; its eventfd stays open")]
    private static partial void StopTimedOut(ILogger logger, string? thread);
}
