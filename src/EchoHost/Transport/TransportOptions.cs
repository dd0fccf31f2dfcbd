using EchoHost.Transport.Linux;

namespace EchoHost.Transport;

/// <summary>The <c>Transport</c> section: which transport the echo listener runs on.</summary>
public sealed class TransportOptions
{
    public const string SectionName = "Transport";

    /// <summary>
    /// <c>Auto</c> (EchoHost's Linux transport on io_uring where the kernel and the seccomp profile allow it, else
    /// on epoll; the default where it runs, Linux x86-64), <c>IoUring</c> or <c>Linux</c> (that transport on one
    /// engine), or <c>Sockets</c> (Kestrel's, the default everywhere else).
    /// </summary>
    public TransportKind Kind { get; init; } = LinuxTransportFactory.IsSupported ? TransportKind.Auto : TransportKind.Sockets;

    /// <summary>Why io_uring cannot run here, when <c>Auto</c> found it cannot; null otherwise.</summary>
    public string? IoUringUnavailable { get; init; }

    /// <summary>The Linux transport's engine that <see cref="Kind"/> comes to; null for Kestrel's.</summary>
    public LinuxEngine? Engine => Kind switch
    {
        TransportKind.Linux => LinuxEngine.Epoll,
        TransportKind.IoUring => LinuxEngine.IoUring,
        TransportKind.Auto => IoUringUnavailable is null ? LinuxEngine.IoUring : LinuxEngine.Epoll,
        _ => null,
    };

    /// <summary>
    /// Epoll threads for the Linux transport, unless set: one per two cores the process may use, at least one.
    /// A reactor runs the kernel's receive and send work and the protocol on its own thread, so a reactor per core
    /// leaves nothing for the rest of the process (the health listener, the log sink, timers, the GC) and its
    /// threads preempt one another. The measurements are in the commit that set this default and in the README.
    /// </summary>
    public int Threads { get; init; } = Math.Max(1, Environment.ProcessorCount / 2);
}

public enum TransportKind
{
    Sockets,
    Linux,
    IoUring,
    Auto,
}
