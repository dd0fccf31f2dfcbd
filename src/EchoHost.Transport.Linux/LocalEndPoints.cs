using System.Net;

namespace EchoHost.Transport.Linux;

/// <summary>
/// The local endpoint objects of one listener's connections: connections to the same address share one. Kestrel's
/// metrics read a connection's local endpoint several times as it starts, so one made per read would be garbage for
/// every connection, and one kept per connection would be held by every idle connection. Shared, it must be replaced,
/// never changed (as the PROXY middleware does).
/// </summary>
internal sealed class LocalEndPoints
{
    private Entry? _last;

    public IPEndPoint? For(CompactEndPoint local)
    {
        var last = Volatile.Read(ref _last);
        if (last is null || !last.Address.Equals(local))
        {
            last = new Entry(local, local.ToEndPoint());
            Volatile.Write(ref _last, last);
        }

        return last.EndPoint;
    }

    private sealed record Entry(CompactEndPoint Address, IPEndPoint? EndPoint);
}
