using System.Net;

namespace EchoHost.Protocol.Echo;

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

    public int MaxConnections { get; init; } = 10_000;
}
