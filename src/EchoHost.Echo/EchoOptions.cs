using System.Net;
using EchoHost.Connections.Tls;

namespace EchoHost.Echo;

/// <summary>The <c>Echo</c> configuration section. Defaults are the documented ones.</summary>
public sealed record EchoOptions
{
    public const string SectionName = "Echo";

    public int Port { get; init; } = 8888;

    /// <summary>The bind address; <see langword="null"/> means all interfaces.</summary>
    public IPAddress? Address { get; init; }

    public EchoMode Mode { get; init; } = EchoMode.Echo;

    public string ReplyPrefix { get; init; } = "Echoed back: ";

    public bool CloseAfterReply { get; init; }

    public MessageFraming Framing { get; init; } = MessageFraming.Line;

    public int MaxLineBytes { get; init; } = 8192;

    /// <summary>How long a connection may send nothing; <see cref="TimeSpan.Zero"/> disables the limit.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>How long written replies may wait for the client to read them; <see cref="TimeSpan.Zero"/> disables the limit.</summary>
    public TimeSpan WriteTimeout { get; init; } = TimeSpan.FromMinutes(1);

    public int MaxConnections { get; init; } = 10_000;

    /// <summary>
    /// Bytes all echo connections together may buffer for clients that do not read; <see langword="null"/>
    /// derives it from the container's memory limit (see the host's <c>MemoryBudgetDefaults</c>).
    /// </summary>
    public long? MemoryBudget { get; init; }

    public ProxyProtocolMode ProxyProtocol { get; init; } = ProxyProtocolMode.Off;

    /// <summary>How long a connection may take to send its whole PROXY header.</summary>
    public TimeSpan ProxyProtocolTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The peers whose PROXY headers are believed; a connection from anywhere else is closed before its header is
    /// read. Empty: any peer (the balancer is the only way in).
    /// </summary>
    public IReadOnlyList<System.Net.IPNetwork> ProxyProtocolTrustedNetworks { get; init; } = [];

    /// <summary>The certificate that turns TLS on; <see langword="null"/> for plain TCP.</summary>
    public CertificateFiles? TlsCertificate { get; init; }
}
