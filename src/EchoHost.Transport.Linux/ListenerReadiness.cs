using System.Net.Sockets;
using System.Threading.Tasks.Sources;

namespace EchoHost.Transport.Linux;

/// <summary>
/// Whether connections may be waiting in a listening socket's backlog: the reactor that watches the socket sets it
/// when one arrives, and the listener waits on it once accept4 found the backlog empty. A wait that the reactor ends
/// runs its continuation, the listener's and Kestrel's accept loop, right there on the reactor's thread, as an event
/// loop accepts; so a connection costs no thread of its own to accept it. One waiter at a time, as Kestrel accepts.
/// </summary>
internal sealed class ListenerReadiness(Socket socket) : IValueTaskSource<bool>
{
    private const int Idle = 0;
    private const int Ready = 1;
    private const int Waiting = 2;
    private const int Stopped = 3;

    private ManualResetValueTaskSourceCore<bool> _core;
    private CancellationTokenRegistration _cancellation;
    private int _state;

    public Socket Socket { get; } = socket;

    public bool IsStopped => Volatile.Read(ref _state) == Stopped;

    /// <summary>The key the watching reactor's events carry for this socket; the reactor's to give and read.</summary>
    public ulong Key { get; set; }

    /// <summary>True when connections may be waiting (and the readiness is taken), false once stopped.</summary>
    public ValueTask<bool> WaitAsync(CancellationToken cancellationToken)
    {
        if (TryTake(out var ready))
        {
            return new ValueTask<bool>(ready);
        }

        cancellationToken.ThrowIfCancellationRequested();
        _core.Reset();
        if (Interlocked.CompareExchange(ref _state, Waiting, Idle) != Idle)
        {
            // Set or stopped since.
            return new ValueTask<bool>(TryTake(out ready) && ready);
        }

        if (cancellationToken.CanBeCanceled)
        {
            _cancellation = cancellationToken.UnsafeRegister(static (state, token) =>
            {
                var readiness = (ListenerReadiness)state!;
                if (Interlocked.CompareExchange(ref readiness._state, Idle, Waiting) == Waiting)
                {
                    readiness._core.SetException(new OperationCanceledException(token));
                }
            }, this);
        }

        return new ValueTask<bool>(this, _core.Version);
    }

    /// <summary>
    /// As <see cref="WaitAsync"/>, but a connection that arrived meanwhile does not end it: only a <see cref="Set"/> from
    /// now on does, which the caller asks its reactor for (<see cref="IReactor.Requeue"/>) once this returned.
    /// </summary>
    public ValueTask<bool> YieldAsync(CancellationToken cancellationToken)
    {
        Interlocked.CompareExchange(ref _state, Idle, Ready);
        return WaitAsync(cancellationToken);
    }

    /// <summary>On the watching reactor's thread: a connection arrived.</summary>
    public void Set()
    {
        while (true)
        {
            switch (Volatile.Read(ref _state))
            {
                case Idle when Interlocked.CompareExchange(ref _state, Ready, Idle) == Idle:
                    return;
                case Waiting when Interlocked.CompareExchange(ref _state, Idle, Waiting) == Waiting:
                    _core.SetResult(true);
                    return;
                case Ready or Stopped:
                    return;
            }
        }
    }

    /// <summary>No connection is taken from now on: a wait, now or later, ends with false.</summary>
    public void Stop()
    {
        if (Interlocked.Exchange(ref _state, Stopped) == Waiting)
        {
            _core.SetResult(false);
        }
    }

    public bool GetResult(short token)
    {
        _cancellation.Dispose();
        _cancellation = default;
        return _core.GetResult(token);
    }

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);

    // A readiness set is taken (Ready to Idle, true); a stopped one stays stopped (false).
    private bool TryTake(out bool ready)
    {
        var state = Interlocked.CompareExchange(ref _state, Idle, Ready);
        ready = state == Ready;
        return state is Ready or Stopped;
    }
}
