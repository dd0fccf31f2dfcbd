namespace EchoHost.Transport.Linux;

/// <summary>
/// How long an accept loop waits before it tries again after running out of room: from 5 ms, doubling to 1 s
/// (as Go's net/http does), so it neither spins nor leaves clients waiting long once room comes back. One per
/// waiting loop.
/// </summary>
public struct AcceptBackoff
{
    public static readonly TimeSpan First = TimeSpan.FromMilliseconds(5);
    public static readonly TimeSpan Longest = TimeSpan.FromSeconds(1);

    private TimeSpan _next;

    public Task WaitAsync(TimeProvider time, CancellationToken cancellationToken)
    {
        var wait = _next == TimeSpan.Zero ? First : _next;
        _next = wait * 2 > Longest ? Longest : wait * 2;
        return Task.Delay(wait, time, cancellationToken);
    }
}
