namespace EchoHost.Transport.Linux;

/// <summary>What a connection asks its reactor to run on the reactor's thread.</summary>
internal enum ReactorWork
{
    Resume,
    Abort,
    Close,

    /// <summary>io_uring only: queue the send that a flush on another thread asked for (only the ring's thread submits).</summary>
    Send,

    /// <summary>An inline receiver attached: from now on this thread hands it what it receives while it is parked.</summary>
    Attach,

    /// <summary>Something reads the input pipe: an engine that left bytes in the socket until then receives them.</summary>
    Reader,
}
