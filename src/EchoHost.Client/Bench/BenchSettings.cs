namespace EchoHost.Client.Bench;

/// <param name="Requests">Total requests over all connections; 0 runs for <paramref name="Duration"/> instead.</param>
/// <param name="PrefixBytes">Bytes the server puts before each echoed message.</param>
/// <param name="Timeout">Connecting, and the longest the run may go without a single reply.</param>
/// <param name="Tls">Speak TLS; <paramref name="Insecure"/> accepts any server certificate.</param>
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
    bool Tls = false,
    bool Insecure = false)
{
    internal Task<Cli.ClientConnection> ConnectAsync(CancellationToken cancellationToken) =>
        Cli.ClientConnection.OpenAsync(Host, Port, Tls, Insecure, Timeout, cancellationToken);
}
