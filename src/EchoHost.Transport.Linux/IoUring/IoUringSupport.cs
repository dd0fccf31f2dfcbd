namespace EchoHost.Transport.Linux;

/// <summary>Whether this process may run the io_uring engine, and why not when it may not.</summary>
public static class IoUringSupport
{
    private const int NotPermitted = 1;
    private const int InvalidArgument = 22;
    private const int NoSystemCall = 38;

    /// <summary>
    /// Sets up a ring the way the engine does (on this thread, then closes it): null when that works, else why not,
    /// in words fit for a log line.
    /// </summary>
    public static string? Unavailable()
    {
        if (!LinuxTransportFactory.IsSupported)
        {
            return "io_uring runs on Linux x86-64 only";
        }

        var error = Ring.TryCreate(8, out var ring);
        if (error != 0)
        {
            return Explain(error);
        }

        var buffers = ProvidedBuffers.Register(ring!, GC.AllocateUninitializedArray<byte>(8 * 64, pinned: true), 8, out error);
        ring!.Dispose();
        buffers?.Dispose();
        return error == 0 ? null : Explain(error);
    }

    internal static string Explain(int error) => -error switch
    {
        NotPermitted => "io_uring_setup was refused (EPERM): a seccomp profile such as Docker's, containerd's or Kubernetes' RuntimeDefault forbids io_uring, or the kernel's io_uring_disabled setting does",
        NoSystemCall => "the kernel has no io_uring (ENOSYS)",
        InvalidArgument => "the kernel predates what the engine needs (EINVAL): single-issuer rings with deferred task work and provided-buffer rings, Linux 6.1 or later",
        _ => $"io_uring setup failed with errno {-error}",
    };
}
