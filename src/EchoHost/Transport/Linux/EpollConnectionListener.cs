using System.Net;
using System.Net.Sockets;
using EchoHost.Connections.Limits;
using Microsoft.AspNetCore.Connections;

namespace EchoHost.Transport.Linux;

/// <summary>
/// Accepts on a listening socket and hands each connection to the next reactor. Unlike Kestrel's socket
/// transport, which retries a failed accept at once, a shortage of descriptors or kernel memory (EMFILE, ENFILE,
/// ENOBUFS, ENOMEM) is waited out (<see cref="AcceptBackoff"/>) and reported at most once per 10 s with a count:
/// whatever takes the descriptors, another part of the process or the whole system, the loop does not spin.
/// </summary>
internal sealed partial class EpollConnectionListener(
    Socket listenSocket, EpollReactor[] reactors, EpollTransportOptions options, TimeProvider time, ILogger logger) : IConnectionListener
{
    private readonly RejectionReport _failures = new(time);
    private int _next;

    public EndPoint EndPoint { get; } = listenSocket.LocalEndPoint!;

    public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
    {
        var backoff = default(AcceptBackoff);
        while (true)
        {
            Socket accepted;
            try
            {
                accepted = await listenSocket.AcceptAsync(cancellationToken);
            }
            catch (Exception ex) when (ex is ObjectDisposedException or OperationCanceledException ||
                                       ex is SocketException { SocketErrorCode: SocketError.OperationAborted or SocketError.Interrupted })
            {
                return null;
            }
            catch (SocketException ex) when (ex.SocketErrorCode is SocketError.TooManyOpenSockets or SocketError.NoBufferSpaceAvailable)
            {
                var failures = _failures.Count();
                if (failures > 0)
                {
                    AcceptFailing(logger, failures, ex.Message, RejectionReport.Interval.TotalSeconds);
                }

                await backoff.WaitAsync(time, cancellationToken);
                continue;
            }
            catch (SocketException)
            {
                // The connection was reset while it waited in the backlog: take the next one.
                continue;
            }

            // Left in blocking mode: the transport's recv and send never wait (MSG_DONTWAIT), and switching it
            // would attach the runtime's asynchronous socket state, which an idle connection would carry for nothing.
            accepted.NoDelay = true;
            var reactor = reactors[(uint)Interlocked.Increment(ref _next) % reactors.Length];
            return new EpollConnection(accepted, reactor, options);
        }
    }

    public ValueTask UnbindAsync(CancellationToken cancellationToken = default)
    {
        listenSocket.Dispose();
        return default;
    }

    public ValueTask DisposeAsync()
    {
        listenSocket.Dispose();
        return default;
    }

    [LoggerMessage(
        EventId = 61,
        Level = LogLevel.Warning,
        Message = "Accepting failed {Failures} time(s) for want of descriptors or memory ({Reason}); waiting up to 1 s between tries (reported at most once per {IntervalSeconds} s)")]
    private static partial void AcceptFailing(ILogger logger, long failures, string reason, double intervalSeconds);
}
