namespace EchoHost.Connections.Proxy;

public enum ProxyHeaderStatus
{
    /// <summary>What arrived so far is a valid start of a header; wait for more.</summary>
    Incomplete,

    /// <summary>A whole header was read.</summary>
    Complete,

    /// <summary>The bytes are not a PROXY header of a supported kind.</summary>
    Invalid,
}
