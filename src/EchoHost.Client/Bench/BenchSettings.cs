namespace EchoHost.Client.Bench;

/// <param name="Requests">Total requests over all connections; 0 runs for <paramref name="Duration"/> instead.</param>
/// <param name="PrefixBytes">Bytes the server puts before each echoed message.</param>
/// <param name="Timeout">Connecting, and the longest the run may go without a single reply.</param>
/// <param name="Tls">How to speak TLS; null for plain TCP.</param>
/// <param name="Pipeline">Ping-pong: requests each connection keeps in flight.</param>
/// <param name="Rate">Ping-pong: requests per second over all connections, sent on schedule (open loop); 0 for closed loop.</param>
/// <param name="Warmup">Run this long before measuring.</param>
/// <param name="Threads">Ping-pong: event loops sharing the connections.</param>
/// <param name="ServerPid">Idle: the server process whose resident memory is read before and after.</param>
public sealed record BenchSettings(
    string Host,
    int Port,
    BenchMode Mode,
    int Connections,
    int MessageBytes,
    TimeSpan Duration,
    long Requests,
    int PrefixBytes,
    TimeSpan Timeout,
    Cli.ClientTls? Tls = null,
    int Pipeline = 1,
    long Rate = 0,
    TimeSpan Warmup = default,
    int Threads = 1,
    int? ServerPid = null)
{
    internal Task<Cli.ClientConnection> ConnectAsync(CancellationToken cancellationToken) =>
        Cli.ClientConnection.OpenAsync(Host, Port, Tls, Timeout, cancellationToken);
}
