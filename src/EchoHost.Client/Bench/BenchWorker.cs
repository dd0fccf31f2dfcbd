using System.Diagnostics;
using System.Net.Sockets;
using EchoHost.Client.Cli;

namespace EchoHost.Client.Bench;

/// <summary>
/// One connection's share of a run. Buffers are allocated once per worker; a request allocates nothing.
/// Counters are written by this worker only and read by the progress display.
/// </summary>
internal sealed class BenchWorker(BenchSettings settings, BenchBudget budget, long measureFrom) : ILoadShare
{
    private readonly byte[] _message = new byte[settings.MessageBytes];
    private readonly byte[] _reply = new byte[settings.PrefixBytes + settings.MessageBytes];
    private byte[]? _prefix;
    private long _requests;

    public HdrHistogram.LongHistogram Latency { get; } = LatencyRecording.NewHistogram();

    public long Requests => Volatile.Read(ref _requests);

    public long Mismatches { get; private set; }

    public long Errors { get; private set; }

    public string? LastError { get; private set; }

    public string? MismatchExplanation { get; private set; }

    public Task RunAsync(CancellationToken stop, CancellationToken abort) => settings.Mode switch
    {
        BenchMode.PingPong => OnConnectionAsync(connection => PingPongAsync(connection.Stream, stop, abort), abort),
        BenchMode.Stream => OnConnectionAsync(connection => StreamAsync(connection, stop, abort), abort),
        _ => ChurnAsync(stop, abort),
    };

    private async Task OnConnectionAsync(Func<ClientConnection, Task> run, CancellationToken abort)
    {
        try
        {
            await using var connection = await settings.ConnectAsync(abort);
            await run(connection);
        }
        catch (Exception ex) when (IsRunFailure(ex, abort))
        {
            Fail(ex);
        }
        catch (OperationCanceledException) when (abort.IsCancellationRequested)
        {
            // The run was stopped (Ctrl+C, or no progress): what was measured so far stands.
        }
    }

    private async Task PingPongAsync(Stream stream, CancellationToken stop, CancellationToken abort)
    {
        for (long sequence = 0; !stop.IsCancellationRequested && budget.TryTake(); sequence++)
        {
            var started = Stopwatch.GetTimestamp();
            MessagePattern.Fill(_message, sequence);
            await SendAsync(stream, _message, abort);
            if (!await ReceiveAsync(stream, _reply, abort))
            {
                throw new ClientException($"the server closed a connection after {sequence} replies on it{(sequence == 1 ? " (does it close after each reply? then use --mode churn)" : "")}");
            }

            Measure(started);
            Check(sequence);
        }
    }

    // The writer sends until told to stop, then half-closes; the reader checks every reply until the server's
    // FIN, so everything sent is accounted for. A writer that fails stops the reader too, with the writer's error.
    private async Task StreamAsync(ClientConnection connection, CancellationToken stop, CancellationToken abort)
    {
        var stream = connection.Stream;
        using var writerFailed = CancellationTokenSource.CreateLinkedTokenSource(abort);
        var writer = Task.Run(
            async () =>
            {
                try
                {
                    var message = new byte[settings.MessageBytes];
                    for (long sequence = 0; !stop.IsCancellationRequested && budget.TryTake(); sequence++)
                    {
                        MessagePattern.Fill(message, sequence);
                        await SendAsync(stream, message, abort);
                    }

                    await connection.HalfCloseAsync();
                }
                catch
                {
                    await writerFailed.CancelAsync();
                    throw;
                }
            },
            abort);

        try
        {
            for (long sequence = 0; await ReceiveAsync(stream, _reply, writerFailed.Token); sequence++)
            {
                Check(sequence);
            }
        }
        catch (OperationCanceledException) when (!abort.IsCancellationRequested)
        {
            // The writer failed: its own exception is the one to report, and awaiting it below throws it.
        }

        await writer;
    }

    private async Task ChurnAsync(CancellationToken stop, CancellationToken abort)
    {
        for (long sequence = 0; !stop.IsCancellationRequested && !abort.IsCancellationRequested && budget.TryTake(); sequence++)
        {
            var started = Stopwatch.GetTimestamp();
            try
            {
                await using var connection = await settings.ConnectAsync(abort);
                var stream = connection.Stream;
                MessagePattern.Fill(_message, sequence);
                await SendAsync(stream, _message, abort);
                if (!await ReceiveAsync(stream, _reply, abort))
                {
                    throw new ClientException("the server closed the connection before replying");
                }

                // Close, or wait for the server's close after its reply: either way, wait for its FIN.
                await connection.HalfCloseAsync();
                var extra = await stream.ReadAsync(_message.AsMemory(0, 1), abort);
                Measure(started);
                Check(sequence);
                if (extra != 0)
                {
                    Mismatches++;
                }
            }
            catch (Exception ex) when (IsRunFailure(ex, abort))
            {
                Fail(ex);
            }
            catch (OperationCanceledException) when (abort.IsCancellationRequested)
            {
                return;
            }
        }
    }

    private void Measure(long started)
    {
        var now = Stopwatch.GetTimestamp();
        if (started >= measureFrom)
        {
            LatencyRecording.Record(Latency, now - started);
        }
    }

    private void Check(long sequence)
    {
        var prefix = _reply.AsSpan(0, settings.PrefixBytes);
        _prefix ??= prefix.ToArray();
        if (!prefix.SequenceEqual(_prefix) || !MessagePattern.Matches(_reply.AsSpan(settings.PrefixBytes), sequence))
        {
            Mismatches++;
            MismatchExplanation ??= Bench.MismatchExplanation.Explain(_reply, sequence, settings.MessageBytes, settings.PrefixBytes);
        }

        if (Stopwatch.GetTimestamp() >= measureFrom)
        {
            Volatile.Write(ref _requests, _requests + 1);
        }
    }

    private void Fail(Exception ex)
    {
        Errors++;
        LastError = ex is ClientException ? ex.Message : Connector.Describe(ex, settings.Timeout);
    }

    private static bool IsRunFailure(Exception ex, CancellationToken abort) =>
        ex is ClientException or SocketException or IOException || (ex is OperationCanceledException && !abort.IsCancellationRequested);

    private static ValueTask SendAsync(Stream connection, ReadOnlyMemory<byte> data, CancellationToken cancellationToken) =>
        connection.WriteAsync(data, cancellationToken);

    // True with the buffer full; false when the server closed first, at a message boundary.
    private static async ValueTask<bool> ReceiveAsync(Stream connection, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        var received = 0;
        while (received < buffer.Length)
        {
            var read = await connection.ReadAsync(buffer[received..], cancellationToken);
            if (read == 0)
            {
                return received == 0 ? false : throw new ClientException($"the server closed the connection {received} bytes into a reply");
            }

            received += read;
        }

        return true;
    }
}
