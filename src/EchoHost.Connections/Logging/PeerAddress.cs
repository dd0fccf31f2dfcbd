using System.Net;

namespace EchoHost.Connections.Logging;

/// <summary>Formats a peer as <c>127.0.0.1:54321</c> or <c>[::1]:54321</c>; IPv4-mapped IPv6 shows as IPv4.</summary>
public static class PeerAddress
{
    public static string Format(EndPoint? endPoint) => endPoint switch
    {
        IPEndPoint { Address.IsIPv4MappedToIPv6: true } ip => new IPEndPoint(ip.Address.MapToIPv4(), ip.Port).ToString(),
        null => "an unknown peer",
        _ => endPoint.ToString() ?? "an unknown peer",
    };
}
