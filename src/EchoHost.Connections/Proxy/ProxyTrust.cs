using System.Collections.Concurrent;
using System.Net;
using EchoHost.Connections.Limits;

namespace EchoHost.Connections.Proxy;

/// <summary>
/// Which peers may send a PROXY header (none listed: any), and when to report one that may not: at most once per
/// peer per <see cref="RejectionReport.Interval"/>, with the count since. As nginx's <c>set_real_ip_from</c> and
/// ASP.NET's <c>KnownNetworks</c> do, the header is believed only from the balancers in front.
/// </summary>
internal sealed class ProxyTrust(IReadOnlyList<IPNetwork> trusted, TimeProvider time)
{
    // Peers being counted; past this many the counts start over, so a scan of many addresses holds no more.
    private const int MaxPeersCounted = 1024;

    private readonly ConcurrentDictionary<IPAddress, RejectionReport> _reports = new();

    public bool Trusts(EndPoint? peer)
    {
        if (trusted.Count == 0)
        {
            return true;
        }

        if (peer is not IPEndPoint { Address: var address })
        {
            return false;
        }

        // A dual-stack listener sees an IPv4 peer as ::ffff:a.b.c.d; the list names it as a.b.c.d.
        address = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
        foreach (var network in trusted)
        {
            if (network.Contains(address))
            {
                return true;
            }
        }

        return false;
    }

    /// <returns>The refused connections from this peer to report now, this one included; 0 when not due.</returns>
    public long CountRefused(EndPoint? peer)
    {
        var address = (peer as IPEndPoint)?.Address ?? IPAddress.None;
        if (_reports.Count >= MaxPeersCounted)
        {
            _reports.Clear();
        }

        return _reports.GetOrAdd(address, static (_, clock) => new RejectionReport(clock), time).Count();
    }
}
