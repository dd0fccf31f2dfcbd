using System.Buffers;
using System.Net;
using System.Net.Sockets;
using EchoHost.Transport.Linux;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace EchoHost.Transport.Tests.Support;

/// <summary>
/// One transport EchoHost ships, bound on a loopback port with the limits the host gives it, and the connections
/// it accepted from real client sockets. Disposing it ends them all and stops the transport.
/// </summary>
internal sealed class TransportUnderTest : IAsyncDisposable
{
    public const long MaxReadBufferSize = 64 * 1024;
    public const long MaxWriteBufferSize = 64 * 1024;

    /// <summary>
    /// The transports the conformance suite runs against, by the name <c>Transport:Kind</c> gives them; the io_uring
    /// engine joins them through <see cref="IoUringKindAttribute"/>, which says why where it cannot run.
    /// </summary>
    public static TheoryData<string> Kinds => LinuxCalls() ? new TheoryData<string> { "Linux", "Sockets" } : new TheoryData<string> { "Sockets" };

    private readonly IConnectionListenerFactory _factory;
    private readonly List<(ConnectionContext Server, Socket Client)> _pairs = [];

    private TransportUnderTest(IConnectionListenerFactory factory, IConnectionListener listener, BlockPool pool)
    {
        _factory = factory;
        Listener = listener;
        Pool = pool;
    }

    public IConnectionListener Listener { get; }

    public IPEndPoint EndPoint => (IPEndPoint)Listener.EndPoint;

    /// <summary>The blocks the Linux transport's connections take; Kestrel's socket transport has a pool of its own.</summary>
    public BlockPool Pool { get; }

    public static async Task<TransportUnderTest> StartAsync(string kind, TimeProvider? time = null)
    {
        var pool = new BlockPool();
        IConnectionListenerFactory factory = kind switch
        {
            "Linux" => Linux(LinuxEngine.Epoll, pool, time),
            "IoUring" => Linux(LinuxEngine.IoUring, pool, time),
            "Sockets" => new SocketTransportFactory(
                Options.Create(new SocketTransportOptions { MaxReadBufferSize = MaxReadBufferSize, MaxWriteBufferSize = MaxWriteBufferSize }),
                NullLoggerFactory.Instance),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "No such transport."),
        };
        return new TransportUnderTest(factory, await factory.BindAsync(new IPEndPoint(IPAddress.Loopback, 0)), pool);
    }

    /// <summary>A client connects, with TCP_NODELAY, and the transport accepts it.</summary>
    public async Task<(ConnectionContext Server, Socket Client)> ConnectAsync(int? clientReceiveBuffer = null)
    {
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        if (clientReceiveBuffer is { } size)
        {
            client.ReceiveBufferSize = size;
        }

        await client.ConnectAsync(EndPoint);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var server = await Listener.AcceptAsync(timeout.Token) ?? throw new InvalidOperationException("The listener accepted nothing.");
        _pairs.Add((server, client));
        return (server, client);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var (server, client) in _pairs)
        {
            client.Dispose();
            server.Abort();
            await server.DisposeAsync();
        }

        await Listener.DisposeAsync();
        (_factory as IDisposable)?.Dispose();
    }

    private static LinuxTransportFactory Linux(LinuxEngine engine, BlockPool pool, TimeProvider? time) => new(
        new LinuxTransportOptions(pool, MaxReadBufferSize, MaxWriteBufferSize, Threads: 1) { Engine = engine },
        time ?? TimeProvider.System,
        NullLoggerFactory.Instance);

    private static bool LinuxCalls() => LinuxTransportFactory.IsSupported;
}
