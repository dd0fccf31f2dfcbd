namespace EchoHost.Echo;

public enum ProxyProtocolMode
{
    /// <summary>Connections are plain TCP (or TLS) from their first byte.</summary>
    Off,

    /// <summary>
    /// Every connection must start with a PROXY protocol v1 or v2 header; one without is closed. There is no
    /// auto-detection: the specification forbids it, since a client could then forge its address.
    /// </summary>
    Required,
}
