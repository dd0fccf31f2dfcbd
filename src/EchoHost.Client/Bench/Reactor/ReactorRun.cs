using EchoHost.Shared;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using EchoHost.Client.Cli;

namespace EchoHost.Client.Bench.Reactor;

/// <summary>
/// Ping-pong over plain TCP on Linux x86-64: the connections split over <c>--threads</c> epoll loops, each a
/// dedicated thread. Sockets are connected with a poll(2) wait rather than the runtime's async connect, so the
/// runtime's own socket engine never watches them and only our loops wake for their events.
/// </summary>
internal static class ReactorRun
{
    public static bool Serves(BenchSettings settings) => settings.Mode == BenchMode.PingPong && settings.Tls is null && LinuxCalls.IsSupported;

    public static async Task<RunOutcome> RunAsync(BenchSettings settings, BenchBudget budget, BenchWatch watch, CancellationToken cancellationToken)
    {
        Socket[] sockets;
        try
        {
            sockets = await Task.Run(() => Connect(settings, cancellationToken), cancellationToken);
        }
        catch (ClientException ex)
        {
            return new RunOutcome("epoll", 0, 0, LatencyRecording.NewHistogram(), 0, settings.Connections, false, ex.Message, null);
        }

        var interval = settings.Rate > 0 ? Math.Max(1, Stopwatch.Frequency * settings.Connections / settings.Rate) : 0;
        var maxInFlight = settings.Rate > 0 ? 1024 : settings.Pipeline;
        var plan = new ReactorPlan(settings.MessageBytes, settings.PrefixBytes, settings.Pipeline, interval);
        var threads = Math.Min(settings.Threads, sockets.Length);
        var messages = MessagePattern.All(settings.MessageBytes);
        var reactors = Enumerable.Range(0, threads)
            .Select(t => new Reactor(
                sockets.Where((_, i) => i % threads == t).Select(s => new LoadConnection(s, messages, settings.PrefixBytes + settings.MessageBytes, maxInFlight)).ToArray(),
                plan,
                budget))
            .ToArray();
        try
        {
            var signals = new ReactorSignals(Stopwatch.GetTimestamp() + (long)(settings.Warmup.TotalSeconds * Stopwatch.Frequency));
            var running = reactors.Select((reactor, i) =>
            {
                var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                new Thread(() =>
                {
                    reactor.Run(signals);
                    done.SetResult();
                })
                { IsBackground = true, Name = $"echoctl bench {i}" }.Start();
                return done.Task;
            }).ToArray();

            var all = Task.WhenAll(running);
            var stalled = await watch.WaitAsync(all, reactors, signals.MeasureFrom, signals.Stop, cancellationToken);
            signals.Stop();
            await all;
            var seconds = Stopwatch.GetElapsedTime(signals.MeasureFrom).TotalSeconds;
            cancellationToken.ThrowIfCancellationRequested();

            return RunOutcome.Sum("epoll", seconds, stalled, reactors);
        }
        finally
        {
            foreach (var reactor in reactors)
            {
                reactor.Dispose();
            }

            foreach (var socket in sockets)
            {
                socket.Dispose();
            }
        }
    }

    private static Socket[] Connect(BenchSettings settings, CancellationToken cancellationToken)
    {
        IPAddress[] addresses;
        try
        {
            addresses = Dns.GetHostAddresses(settings.Host);
        }
        catch (SocketException ex)
        {
            throw new ClientException($"cannot connect to {settings.Host}:{settings.Port}: {Connector.Describe(ex, settings.Timeout)}");
        }

        var sockets = new List<Socket>(settings.Connections);
        try
        {
            for (var i = 0; i < settings.Connections; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                sockets.Add(ConnectOne(addresses, settings));
            }

            return [.. sockets];
        }
        catch
        {
            foreach (var socket in sockets)
            {
                socket.Dispose();
            }

            throw;
        }
    }

    private static Socket ConnectOne(IPAddress[] addresses, BenchSettings settings)
    {
        SocketException? last = null;
        foreach (var address in addresses)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, Blocking = false };
            try
            {
                try
                {
                    socket.Connect(address, settings.Port);
                }
                catch (SocketException ex) when (ex.SocketErrorCode is SocketError.WouldBlock or SocketError.InProgress)
                {
                    if (!socket.Poll(settings.Timeout, SelectMode.SelectWrite))
                    {
                        throw new ClientException($"cannot connect to {settings.Host}:{settings.Port}: no answer within {settings.Timeout.TotalSeconds:0.###} s");
                    }

                    var error = (SocketError)(int)socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.Error)!;
                    if (error != SocketError.Success)
                    {
                        throw new SocketException((int)error);
                    }
                }

                return socket;
            }
            catch (SocketException ex)
            {
                socket.Dispose();
                last = ex;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        throw new ClientException($"cannot connect to {settings.Host}:{settings.Port}: {(last is null ? "the host name does not resolve" : Connector.Describe(last, settings.Timeout))}");
    }
}
