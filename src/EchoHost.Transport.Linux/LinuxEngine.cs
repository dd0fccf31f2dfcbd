namespace EchoHost.Transport.Linux;

/// <summary>How the Linux transport's reactors wait for and move bytes.</summary>
public enum LinuxEngine
{
    /// <summary>Readiness from epoll, then a recv or send system call per operation.</summary>
    Epoll,

    /// <summary>
    /// An io_uring per reactor: receives into a ring of provided buffers, sends queued and submitted once
    /// per loop turn. Needs Linux 6.1 and a seccomp profile that allows io_uring (<see cref="IoUringSupport"/>).
    /// </summary>
    IoUring,
}
