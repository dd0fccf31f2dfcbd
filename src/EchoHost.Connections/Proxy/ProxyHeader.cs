using System.Net;

namespace EchoHost.Connections.Proxy;

/// <summary>
/// A parsed PROXY protocol header. <see cref="Source"/> is the client as the proxy saw it, or
/// <see langword="null"/> when the header carries no addresses (v1 <c>UNKNOWN</c>, v2 <c>LOCAL</c>): the
/// connection then keeps its socket addresses.
/// </summary>
public readonly record struct ProxyHeader(int Version, IPEndPoint? Source, IPEndPoint? Destination);
