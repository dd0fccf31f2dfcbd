using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;

namespace EchoHost.Hosting;

/// <summary>
/// A listener that could not bind, whatever the reason (the port in use, an address this machine does not have,
/// a port below 1024 without the right, a missing address family), told as one line that names the listener,
/// the setting, the address and what to do. It is an <see cref="IOException"/>, as Kestrel's own bind failures
/// are, so that Kestrel does not retry an all-interfaces listener on IPv4 alone.
/// </summary>
public sealed class BindFailure(Listener? listener, EndPoint endpoint, Exception inner)
    : IOException(Describe(listener, endpoint, inner), inner)
{
    private static string Describe(Listener? listener, EndPoint endpoint, Exception inner)
    {
        var name = listener is null ? "A listener" : $"The {listener.Name.ToLowerInvariant()} listener ({listener.PortSetting})";
        var portSetting = listener?.PortSetting ?? "the port setting";
        var addressSetting = listener is null ? "the address setting" : listener.PortSetting.Replace(":Port", ":Address", StringComparison.Ordinal);
        var address = endpoint is IPEndPoint ip ? ip.Address.ToString() : endpoint.ToString();
        var reason = inner switch
        {
            AddressInUseException => $"address already in use; stop what uses it, or choose another port with --{portSetting}=PORT",
            SocketException { SocketErrorCode: SocketError.AddressNotAvailable } =>
                $"{address} is not an address of this machine; use one of its addresses in {addressSetting}, or leave it empty for all interfaces",
            SocketException { SocketErrorCode: SocketError.AccessDenied } =>
                $"permission denied; ports below 1024 need root or CAP_NET_BIND_SERVICE, so choose one from 1024 up with --{portSetting}=PORT",
            SocketException { SocketErrorCode: SocketError.AddressFamilyNotSupported } =>
                $"this machine does not support {(endpoint.AddressFamily == AddressFamily.InterNetworkV6 ? "IPv6" : "IPv4")}; use an address of the other family in {addressSetting}",
            _ => inner.Message.TrimEnd('.').ToLowerInvariant(),
        };
        return $"{name} cannot bind {endpoint}: {reason}.";
    }
}
