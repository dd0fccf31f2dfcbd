using System.Net;
using System.Net.Sockets;
using EchoHost.Hosting;
using EchoHost.Transport;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging.Abstractions;

namespace EchoHost.Tests.Hardening;

/// <summary>
/// A node booted with IPv6 disabled: binding all interfaces on IPv6 fails with EAFNOSUPPORT, and Kestrel retries an
/// all-interfaces listener on IPv4 only when that failure is not an <see cref="IOException"/>.
/// </summary>
public sealed class BindFallbackTests
{
    [Fact]
    public async Task A_missing_ipv6_stack_is_left_for_kestrels_ipv4_fallback_and_other_failures_are_explained()
    {
        var listeners = new Listeners();
        var kestrel = new KestrelServerOptions();
        kestrel.Listen(IPAddress.IPv6Any, 9000, listen => listeners.Add(new Listener(Listeners.Echo, "Echo:Port", "raw TCP", listen, 100)));
        kestrel.Listen(IPAddress.IPv6Loopback, 9001, listen => listeners.Add(new Listener("Upper", "Upper:Port", "upper-case lines", listen, 100)));
        var factory = new GatedConnectionListenerFactory(
            new WithoutIPv6(), new WithoutIPv6(), SystemFileTable.Proc(TimeProvider.System), listeners, TimeProvider.System, NullLogger<AcceptGate>.Instance);

        var ipv6 = await Assert.ThrowsAsync<SocketException>(() => factory.BindAsync(listeners["Echo"].Options.EndPoint).AsTask());
        Assert.IsNotAssignableFrom<IOException>(ipv6);
        var ipv6Address = await Assert.ThrowsAsync<BindFailure>(() => factory.BindAsync(listeners["Upper"].Options.EndPoint).AsTask());
        Assert.Equal(
            "The upper listener (Upper:Port) cannot bind [::1]:9001: this machine does not support IPv6; use an address of the other family in Upper:Address.",
            ipv6Address.Message);
    }

    private sealed class WithoutIPv6 : IConnectionListenerFactory
    {
        public ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default) =>
            throw new SocketException((int)SocketError.AddressFamilyNotSupported);
    }
}
