using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using EchoHost.Transport.Linux;
using EchoHost.Transport.Tests.Support;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging.Abstractions;

namespace EchoHost.Transport.Tests;

/// <summary>
/// Stopping the Linux transport while connections are still open, as the host does when Kestrel has given up on
/// them: the reactors of either engine abort them, close what the application never disposed (io_uring cancels
/// what it has in flight first), and stop within their bound.
/// </summary>
public sealed class ReactorStopTests
{
    public static TheoryData<string> Epoll => LinuxTransportFactory.IsSupported ? ["Linux"] : [];

    [Theory]
    [MemberData(nameof(Epoll))]
    [IoUringKind]
    public async Task Stopping_with_connections_nobody_disposes_closes_their_sockets_within_the_bound(string kind)
    {
        var (factory, listener) = await BindAsync(kind);
        var clients = new List<Socket>();
        var inodes = new List<long>();
        var closedTokens = new List<CancellationToken>();
        for (var i = 0; i < 10; i++)
        {
            var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await client.ConnectAsync((IPEndPoint)listener.EndPoint);
            var server = await listener.AcceptAsync() ?? throw new InvalidOperationException("The listener accepted nothing.");
            clients.Add(client);
            inodes.Add(KernelView.InodeOf(server));
            closedTokens.Add(server.ConnectionClosed);
        }

        await listener.DisposeAsync();
        var stopping = Stopwatch.StartNew();
        factory.Dispose();

        Assert.True(stopping.Elapsed < IReactor.StopTimeout + TimeSpan.FromSeconds(2), $"stopping took {stopping.Elapsed.TotalSeconds:0.0} s");
        Assert.All(inodes, inode => Assert.False(KernelView.IsOpen(inode), "a socket outlived its reactor"));
        await Eventually.TrueAsync(() => closedTokens.All(t => t.IsCancellationRequested), "ConnectionClosed did not fire for every connection");
        foreach (var client in clients)
        {
            try
            {
                Assert.Equal(0, await client.ReceiveAsync(new byte[16]));
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionReset)
            {
            }

            client.Dispose();
        }
    }

    [Theory]
    [MemberData(nameof(Epoll))]
    [IoUringKind]
    public async Task Stopping_the_reactors_ends_an_accept_that_waits_on_them(string kind)
    {
        var (factory, listener) = await BindAsync(kind);
        var waiting = listener.AcceptAsync().AsTask();

        factory.Dispose();

        Assert.Null(await Eventually.WithinAsync(waiting, "the accept still waits on reactors that stopped"));
        await Eventually.WithinAsync(listener.DisposeAsync().AsTask(), "the listener did not dispose after its reactors stopped");
    }

    // Two reactors of the engine, so a stop ends more than one thread.
    private static async Task<(LinuxTransportFactory Factory, IConnectionListener Listener)> BindAsync(string kind)
    {
        var options = new LinuxTransportOptions(new BlockPool(), 64 * 1024, 64 * 1024, Threads: 2)
        {
            Engine = kind == "IoUring" ? LinuxEngine.IoUring : LinuxEngine.Epoll,
        };
        var factory = new LinuxTransportFactory(options, TimeProvider.System, NullLoggerFactory.Instance);
        return (factory, await factory.BindAsync(new IPEndPoint(IPAddress.Loopback, 0)));
    }
}
