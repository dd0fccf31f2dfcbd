using EchoHost.Shared;
using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Threading.Tasks.Sources;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;

namespace EchoHost.Transport.Linux;

/// <summary>
/// A connection of the epoll transport, as Kestrel sees any connection: a <see cref="ConnectionContext"/> with a
/// duplex pipe. Its reactor calls <see cref="OnReady"/>: readable, it receives straight into the input pipe's
/// memory (so an idle connection holds no buffer) and flushes, which runs the protocol inline; writable, it wakes
/// the send loop. The send loop takes what the protocol flushed and sends it at once, waiting for writability
/// only when the socket's buffer is full. Both pipes apply the transport's limits: reading pauses while the input
/// pipe is full, the protocol's flush waits while the output pipe is. The input pipe's writer is used on the
/// reactor's thread only (or while reading is paused), which is why the final close is queued to it.
/// </summary>
internal sealed class EpollConnection : ConnectionContext,
    IConnectionIdFeature, IConnectionTransportFeature, IConnectionItemsFeature, IMemoryPoolFeature, IConnectionLifetimeFeature,
    IConnectionSocketFeature, IValueTaskSource<bool>
{
    private static long _lastKey;
    private readonly Socket _socket;
    private readonly EpollReactor _reactor;
    private readonly Pipe _input;
    private readonly Pipe _output;
    private readonly CancellationTokenSource _closed = new();
    private readonly TaskCompletionSource _socketClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _gate = new();
    private readonly Task _sending;
    private ManualResetValueTaskSourceCore<bool> _writable;
    private uint _interest = LinuxCalls.In;
    private bool _waitingToWrite;
    private bool _readingPaused;
    private bool _receiveDone;
    private bool _closing;
    private ConnectionAbortedException? _abortReason;
    private string? _id;
    private IDictionary<object, object?>? _items;

    public EpollConnection(Socket socket, EpollReactor reactor, EpollTransportOptions options)
    {
        _socket = socket;
        _reactor = reactor;
        Descriptor = (int)socket.Handle;
        Key = (ulong)Interlocked.Increment(ref _lastKey);
        MemoryPool = options.MemoryPool;
        LocalEndPoint = socket.LocalEndPoint;
        RemoteEndPoint = socket.RemoteEndPoint;
        _input = new Pipe(options.InputPipe);
        _output = new Pipe(options.OutputPipe);
        Transport = new DuplexPipe(_input.Reader, _output.Writer);
        Features = new EpollConnectionFeatures(this);
        _sending = SendLoopAsync();
        reactor.Add(this, _interest);
    }

    public int Descriptor { get; }

    public ulong Key { get; }

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

    /// <summary>Called on the reactor's thread with the events epoll reported.</summary>
    public void OnReady(uint events)
    {
        if ((events & LinuxCalls.Out) != 0)
        {
            bool wake;
            lock (_gate)
            {
                wake = _waitingToWrite;
                _waitingToWrite = false;
                SetInterest(_interest & ~LinuxCalls.Out);
            }

            if (wake)
            {
                _writable.SetResult(true);
            }
        }

        if ((events & (LinuxCalls.In | LinuxCalls.Error | LinuxCalls.HangUp)) != 0 && !_receiveDone && !_readingPaused)
        {
            Receive();
        }
    }

    public override void Abort(ConnectionAbortedException abortReason)
    {
        bool wake;
        lock (_gate)
        {
            if (_abortReason is not null || _closing)
            {
                return;
            }

            // As Kestrel's socket transport does: shut both directions, so the peer learns now. The reactor then
            // reads the end of the stream and completes the input with the reason.
            _abortReason = abortReason;
            LinuxCalls.Shutdown(Descriptor, LinuxCalls.ShutdownBoth);
            wake = _waitingToWrite;
            _waitingToWrite = false;
        }

        _output.Reader.CancelPendingRead();
        if (wake)
        {
            _writable.SetResult(false);
        }
    }

    public override async ValueTask DisposeAsync()
    {
        await Transport.Input.CompleteAsync();
        await Transport.Output.CompleteAsync();
        await _sending;
        lock (_gate)
        {
            _closing = true;
        }

        _reactor.Close(this);
        await _socketClosed.Task;
        _closed.Dispose();
        await base.DisposeAsync();
    }

    /// <summary>Called on the reactor's thread once the connection is out of epoll: the socket closes here.</summary>
    public void Closed()
    {
        EndReceive(null);
        _socket.Dispose();
        _closed.Cancel();
        _socketClosed.SetResult();
    }

    bool IValueTaskSource<bool>.GetResult(short token) => _writable.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<bool>.GetStatus(short token) => _writable.GetStatus(token);

    void IValueTaskSource<bool>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _writable.OnCompleted(continuation, state, token, flags);

    private void Receive()
    {
        var memory = _input.Writer.GetMemory(MemoryPool.MaxBufferSize);
        var received = LinuxCalls.Receive(Descriptor, memory.Span);
        if (received > 0)
        {
            _input.Writer.Advance(received);
            var flush = _input.Writer.FlushAsync();
            if (flush.IsCompleted)
            {
                AfterFlush(flush.Result);
            }
            else
            {
                // The protocol has not consumed what it has: stop reading until it does.
                lock (_gate)
                {
                    _readingPaused = true;
                    SetInterest(_interest & ~LinuxCalls.In);
                }

                _ = ResumeReadingAsync(flush);
            }
        }
        else if (received == 0)
        {
            EndReceive(_abortReason);
        }
        else if (received != -LinuxCalls.WouldBlock && received != -LinuxCalls.Interrupted)
        {
            EndReceive(_abortReason ?? (Exception)new ConnectionResetException($"The connection was reset (errno {-received})."));
        }
    }

    private void AfterFlush(FlushResult result)
    {
        if (result.IsCompleted)
        {
            // The protocol stopped reading: nothing more is received.
            EndReceive(null);
        }
    }

    private async Task ResumeReadingAsync(ValueTask<FlushResult> flush)
    {
        var result = await flush;
        lock (_gate)
        {
            _readingPaused = false;
            if (!_receiveDone)
            {
                SetInterest(_interest | LinuxCalls.In);
            }
        }

        AfterFlush(result);
    }

    private void EndReceive(Exception? error)
    {
        lock (_gate)
        {
            if (_receiveDone)
            {
                return;
            }

            _receiveDone = true;
            SetInterest(_interest & ~LinuxCalls.In);
        }

        _input.Writer.Complete(error);
    }

    private async Task SendLoopAsync()
    {
        var reader = _output.Reader;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync();
                if (_abortReason is not null)
                {
                    return;
                }

                var buffer = result.Buffer;
                foreach (var segment in buffer)
                {
                    var remaining = segment;
                    while (!remaining.IsEmpty)
                    {
                        var sent = LinuxCalls.Send(Descriptor, remaining.Span);
                        if (sent > 0)
                        {
                            remaining = remaining[sent..];
                        }
                        else if (sent == -LinuxCalls.WouldBlock)
                        {
                            if (!await WaitWritableAsync())
                            {
                                return;
                            }
                        }
                        else if (sent != -LinuxCalls.Interrupted)
                        {
                            Abort(new ConnectionAbortedException($"The connection was reset while sending (errno {-sent})."));
                            return;
                        }
                    }
                }

                reader.AdvanceTo(buffer.End);
                if (result.IsCompleted)
                {
                    break;
                }
            }

            // Everything the protocol wrote is out: a FIN follows it.
            lock (_gate)
            {
                if (_abortReason is null)
                {
                    LinuxCalls.Shutdown(Descriptor, LinuxCalls.ShutdownWrite);
                }
            }
        }
        finally
        {
            await reader.CompleteAsync(_abortReason);
        }
    }

    // Waits for EPOLLOUT; false when the connection was aborted meanwhile.
    private ValueTask<bool> WaitWritableAsync()
    {
        lock (_gate)
        {
            if (_abortReason is not null)
            {
                return ValueTask.FromResult(false);
            }

            _writable.Reset();
            _waitingToWrite = true;
            SetInterest(_interest | LinuxCalls.Out);
        }

        return new ValueTask<bool>(this, _writable.Version);
    }

    // Under _gate.
    private void SetInterest(uint interest)
    {
        if (interest == _interest || _closing)
        {
            return;
        }

        _interest = interest;
        _reactor.Change(this, interest);
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}
