using System.Net;
using EchoHost.Transport.Linux;

namespace EchoHost.Transport.Tests;

/// <summary>Connections to the same local address share one endpoint object; another address gets its own.</summary>
public sealed class LocalEndPointsTests
{
    [Fact]
    public void Equal_addresses_share_one_endpoint_and_another_address_gets_its_own()
    {
        var locals = new LocalEndPoints();
        var loopback = new IPEndPoint(IPAddress.Parse("::ffff:127.0.0.1"), 8888);
        var other = new IPEndPoint(IPAddress.Parse("::1"), 8888);

        var first = locals.For(new CompactEndPoint(loopback));
        var second = locals.For(new CompactEndPoint(new IPEndPoint(IPAddress.Parse("::ffff:127.0.0.1"), 8888)));
        var third = locals.For(new CompactEndPoint(other));

        Assert.Equal(loopback, first);
        Assert.Same(first, second);
        Assert.Equal(other, third);
        Assert.Equal(loopback, locals.For(new CompactEndPoint(loopback)));
    }
}
