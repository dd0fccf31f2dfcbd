using System.IO.Pipelines;
using System.Net;
using EchoHost.Connections.Diagnostics;
using EchoHost.Connections.Limits;
using EchoHost.Connections.Logging;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace EchoHost.Connections.Proxy;

/// <summary>
/// Requires a PROXY protocol header at the start of every connection, and from then on makes the connection's
/// <see cref="BaseConnectionContext.RemoteEndPoint"/> the client the proxy names. A connection whose header is
/// missing, malformed or not complete within the timeout is closed without a byte of reply. Bytes that arrive
/// with the header and after it stay in the pipe for the next layer. A connection from a peer that
/// <see cref="ProxyTrust"/> does not trust is closed before anything is read.
/// </summary>
internal sealed class ProxyProtocolMiddleware(
    ConnectionDelegate next, TimeSpan timeout, ProxyTrust trust, TimeProvider time, ConnectionMetrics? metrics, ILogger logger)
{
    private IPEndPoint? _lastDestination;

    public async Task OnConnectionAsync(ConnectionContext connection)
    {
        if (!trust.Trusts(connection.RemoteEndPoint))
        {
            metrics?.Rejected(RejectionReasons.ProxyUntrusted);
            var refused = trust.CountRefused(connection.RemoteEndPoint);
            if (refused > 0)
            {
                ProxyProtocolLog.Untrusted(logger, refused, PeerAddress.Format(connection.RemoteEndPoint), RejectionReport.Interval.TotalSeconds);
            }

            await connection.CloseUnansweredAsync();
            return;
        }

        var (header, problem) = await ReadHeaderAsync(connection.Transport.Input);
        if (problem is not null)
        {
            metrics?.Rejected(RejectionReasons.ProxyHeader);
            if (logger.IsEnabled(LogLevel.Information))
            {
                var peer = PeerAddress.Format(connection.RemoteEndPoint);
                ProxyProtocolLog.Rejected(logger, peer, problem);
            }

            await connection.CloseUnansweredAsync();
            return;
        }

        if (header.Source is { } source)
        {
            connection.RemoteEndPoint = source;
            connection.LocalEndPoint = SharedDestination(header.Destination!);
            if (connection.Features.Get<IHttpConnectionFeature>() is { } http)
            {
                (http.RemoteIpAddress, http.RemotePort) = (source.Address, source.Port);
                (http.LocalIpAddress, http.LocalPort) = (header.Destination!.Address, header.Destination.Port);
            }
        }

        await next(connection);
    }

    // The connections a balancer forwards name the same destination, its own address: they share one endpoint, as
    // the transport's connections to one local address do, rather than each holding its own for its whole life.
    private IPEndPoint SharedDestination(IPEndPoint destination)
    {
        var last = Volatile.Read(ref _lastDestination);
        if (last is not null && last.Equals(destination))
        {
            return last;
        }

        Volatile.Write(ref _lastDestination, destination);
        return destination;
    }

    private async Task<(ProxyHeader Header, string? Problem)> ReadHeaderAsync(PipeReader input)
    {
        using var deadline = new CancellationTokenSource(timeout, time);
        try
        {
            while (true)
            {
                var result = await input.ReadAsync(deadline.Token);
                var buffer = result.Buffer;
                switch (ProxyHeaderParser.TryParse(buffer, out var header, out var consumed, out var problem))
                {
                    case ProxyHeaderStatus.Complete:
                        input.AdvanceTo(consumed);
                        return (header, null);
                    case ProxyHeaderStatus.Invalid:
                        input.AdvanceTo(buffer.Start);
                        return (default, problem);
                }

                input.AdvanceTo(buffer.Start, buffer.End);
                if (result.IsCompleted)
                {
                    return (default, buffer.IsEmpty ? "it sent nothing" : "it closed before its PROXY header was complete");
                }
            }
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            return (default, $"no complete PROXY header within {timeout:c}");
        }
        catch (Exception ex) when (ex is ConnectionResetException or ConnectionAbortedException or IOException)
        {
            return (default, $"it ended before its PROXY header was complete: {ex.Message}");
        }
    }
}
