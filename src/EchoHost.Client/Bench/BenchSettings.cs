namespace EchoHost.Client.Bench;

/// <param name="Requests">Total requests over all connections; 0 runs for <paramref name="Duration"/> instead.</param>
/// <param name="PrefixBytes">Bytes the server puts before each echoed message.</param>
/// <param name="Timeout">Connecting, and the longest the run may go without a single reply.</param>
public sealed record BenchSettings(
    string Host,
    int Port,
    BenchMode Mode,
    int Connections,
    int MessageBytes,
    TimeSpan Duration,
    long Requests,
    int PrefixBytes,
    TimeSpan Timeout);
