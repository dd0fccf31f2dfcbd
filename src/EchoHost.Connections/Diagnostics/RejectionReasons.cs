namespace EchoHost.Connections.Diagnostics;

/// <summary>The <c>reason</c> label of rejected connections.</summary>
public static class RejectionReasons
{
    public const string MaxConnections = "max_connections";
    public const string FileDescriptors = "fd_limit";
    public const string Memory = "memory";
    public const string ProxyHeader = "proxy_header";
    public const string ProxyUntrusted = "proxy_untrusted";
    public const string TlsHandshake = "tls_handshake";

    /// <summary>Every reason, each exported from the start.</summary>
    public static readonly string[] All = [MaxConnections, FileDescriptors, Memory, ProxyHeader, ProxyUntrusted, TlsHandshake];
}
