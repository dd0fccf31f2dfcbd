using System.Diagnostics;
using System.Globalization;
using EchoHost.Client.Cli;
using Spectre.Console;

namespace EchoHost.Client.Bench;

/// <summary>
/// <c>--mode idle</c>: opens the connections, holds them for the duration without sending a byte, and, given the
/// server's PID, reads its resident memory before the first connection and after the last has settled: what one
/// idle connection costs the server.
/// </summary>
internal static class IdleRun
{
    private const int ConnectingAtOnce = 64;
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(1);

    public static async Task<BenchResult> RunAsync(BenchSettings settings, IAnsiConsole? progress, CancellationToken cancellationToken)
    {
        var before = settings.ServerPid is { } pid ? ResidentBytes(pid) : null;
        var connections = new List<ClientConnection>(settings.Connections);
        var errors = 0L;
        string? lastError = null;
        var started = Stopwatch.GetTimestamp();
        try
        {
            using var gate = new SemaphoreSlim(ConnectingAtOnce);
            var opening = Enumerable.Range(0, settings.Connections).Select(async _ =>
            {
                await gate.WaitAsync(cancellationToken);
                try
                {
                    var connection = await settings.ConnectAsync(cancellationToken);
                    lock (connections)
                    {
                        connections.Add(connection);
                    }
                }
                catch (ClientException ex)
                {
                    Interlocked.Increment(ref errors);
                    lastError = ex.Message;
                }
                finally
                {
                    gate.Release();
                }
            });
            await Task.WhenAll(opening);
            progress?.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture, $"holding {connections.Count:N0} idle connection(s) for {settings.Duration.TotalSeconds:0.###} s")));
            await Task.Delay(Settle, cancellationToken);
            var after = settings.ServerPid is { } server ? ResidentBytes(server) : null;
            var rest = settings.Duration - Stopwatch.GetElapsedTime(started);
            if (rest > TimeSpan.Zero)
            {
                await Task.Delay(rest, cancellationToken);
            }

            var held = connections.Count;
            var perConnection = before is { } b && after is { } a && held > 0 ? Math.Round((a - b) / (double)held, 1) : (double?)null;
            return new BenchResult(
                "idle", $"{settings.Host}:{settings.Port}", settings.Connections, 0, settings.PrefixBytes,
                Math.Round(Stopwatch.GetElapsedTime(started).TotalSeconds, 3), 0, 0, 0, null, 0, errors, lastError,
                Idle: new IdleResult(held, before, after, perConnection));
        }
        finally
        {
            foreach (var connection in connections)
            {
                await connection.DisposeAsync();
            }
        }
    }

    /// <summary>VmRSS of a process, in bytes.</summary>
    private static long? ResidentBytes(int pid)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
            return line is null ? null : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
        }
        catch (IOException)
        {
            throw new ClientException($"cannot read the memory of process {pid} (/proc/{pid}/status): is it running, on this machine?");
        }
    }
}
