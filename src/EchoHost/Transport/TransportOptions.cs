namespace EchoHost.Transport;

/// <summary>The <c>Transport</c> section: which transport the echo listener runs on.</summary>
public sealed class TransportOptions
{
    public const string SectionName = "Transport";

    /// <summary><c>Sockets</c> (Kestrel's, the default) or <c>Linux</c> (EchoHost's epoll transport, Linux x86-64, opt-in).</summary>
    public TransportKind Kind { get; init; } = TransportKind.Sockets;

    /// <summary>Epoll threads for the Linux transport: one per core the process may use, unless set.</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;
}

public enum TransportKind
{
    Sockets,
    Linux,
}
