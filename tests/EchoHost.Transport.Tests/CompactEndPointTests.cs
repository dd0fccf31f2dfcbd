using System.Net;
using EchoHost.Transport.Linux;

namespace EchoHost.Transport.Tests;

/// <summary>The endpoint a connection keeps as a value reads back as the endpoint it was made from.</summary>
public sealed class CompactEndPointTests
{
    [Theory]
    [InlineData("127.0.0.1", 8888)]
    [InlineData("10.1.2.3", 0)]
    [InlineData("::1", 65535)]
    [InlineData("::ffff:192.0.2.1", 40000)]
    [InlineData("fe80::1%3", 1234)]
    [InlineData("2001:db8:ffff:1:2:3:4:5", 1)]
    public void An_ip_endpoint_reads_back_equal(string address, int port)
    {
        var endPoint = new IPEndPoint(IPAddress.Parse(address), port);

        var readBack = new CompactEndPoint(endPoint).ToEndPoint();

        Assert.Equal(endPoint, readBack);
        Assert.Equal(endPoint.ToString(), readBack!.ToString());
        Assert.Equal(endPoint.AddressFamily, readBack.AddressFamily);
    }

    [Theory]
    [InlineData("127.0.0.1", 8888)]
    [InlineData("::ffff:192.0.2.1", 40000)]
    [InlineData("fe80::1%3", 1234)]
    [InlineData("2001:db8:ffff:1:2:3:4:5", 65535)]
    public void A_kernel_socket_address_reads_back_as_its_endpoint(string address, int port)
    {
        var endPoint = new IPEndPoint(IPAddress.Parse(address), port);
        var socketAddress = endPoint.Serialize();

        var readBack = new CompactEndPoint(socketAddress.Buffer.Span[..socketAddress.Size]).ToEndPoint();

        Assert.Equal(endPoint, readBack);
    }

    [Fact]
    public void A_socket_address_too_short_or_of_another_family_reads_back_as_none()
    {
        Assert.Null(new CompactEndPoint(ReadOnlySpan<byte>.Empty).ToEndPoint());
        Assert.Null(new CompactEndPoint([2, 0, 0x22]).ToEndPoint());
        Assert.Null(new CompactEndPoint([1, 0, (byte)'/', (byte)'t', (byte)'m', (byte)'p', 0, 0]).ToEndPoint());
    }

    [Fact]
    public void No_endpoint_and_one_that_is_not_ip_read_back_as_none()
    {
        Assert.Null(new CompactEndPoint((EndPoint?)null).ToEndPoint());
        Assert.Null(new CompactEndPoint(new DnsEndPoint("localhost", 80)).ToEndPoint());
        Assert.Null(default(CompactEndPoint).ToEndPoint());
    }
}
