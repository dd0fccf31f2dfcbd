namespace EchoHost.Transport.Linux;

/// <summary>One thread of the Linux transport serving many connections, whichever engine it runs.</summary>
internal interface IReactor : IDisposable
{
    /// <summary>
    /// How long a stopping reactor waits for its connections to close before it closes them itself: real time,
    /// whatever clock the host runs on, since it bounds a thread's life.
    /// </summary>
    static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(5);

    /// <summary>A connection of this reactor for an accepted socket; <see cref="LinuxConnection.Start"/> joins it.</summary>
    LinuxConnection Connect(AcceptedSocket accepted);

    /// <summary>
    /// Sets the listener's readiness whenever a connection arrives on its socket, until <see cref="UnwatchAsync"/> or
    /// this reactor stops, which stops it; 0, or -errno.
    /// </summary>
    int Watch(ListenerReadiness listener);

    /// <summary>Sets the listener's readiness on this reactor's next turn, after the connections ready by then are served.</summary>
    void Requeue(ListenerReadiness listener);

    /// <summary>Stops watching the listener; done once this reactor no longer refers to its socket, which may then close.</summary>
    ValueTask UnwatchAsync(ListenerReadiness listener);
}
