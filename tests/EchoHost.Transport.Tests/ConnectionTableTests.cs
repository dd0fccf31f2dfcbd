using System.Net;
using System.Net.Sockets;
using EchoHost.Transport.Linux;
using EchoHost.Transport.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace EchoHost.Transport.Tests;

/// <summary>
/// The table a reactor finds a connection in from an event's or completion's token: a token finds its connection
/// until it is removed, and never the connection that took its slot after it, which a stale event would otherwise
/// reach.
/// </summary>
public sealed class ConnectionTableTests
{
    [LinuxTransportFact]
    public async Task A_token_finds_its_connection_until_removed_and_never_the_next_in_its_slot()
    {
        await using var accepted = await AcceptedConnections.OpenAsync(2);
        var (first, second) = (accepted.Connections[0], accepted.Connections[1]);
        var table = new ConnectionTable<LinuxConnection>();

        var firstToken = table.Add(first);
        Assert.True(table.TryGet(firstToken, out var found));
        Assert.Same(first, found);

        table.Remove(firstToken);
        Assert.False(table.TryGet(firstToken, out _));
        Assert.True(table.IsEmpty);

        var secondToken = table.Add(second);
        Assert.NotEqual(firstToken, secondToken);
        Assert.False(table.TryGet(firstToken, out _));
        Assert.True(table.TryGet(secondToken, out found));
        Assert.Same(second, found);

        table.Remove(firstToken);
        Assert.True(table.TryGet(secondToken, out _));
        Assert.Equal([second], table.Snapshot());
    }

    [LinuxTransportFact]
    public async Task Tokens_keep_finding_their_connections_while_the_table_grows()
    {
        await using var accepted = await AcceptedConnections.OpenAsync(1);
        var connection = accepted.Connections[0];
        var table = new ConnectionTable<LinuxConnection>();

        var tokens = Enumerable.Range(0, 1000).Select(_ => table.Add(connection)).ToList();

        Assert.Equal(1000, tokens.Distinct().Count());
        Assert.All(tokens, token => Assert.True(table.TryGet(token, out _)));
        Assert.Equal(1000, table.Snapshot().Count);
        foreach (var token in tokens)
        {
            table.Remove(token);
        }

        Assert.True(table.IsEmpty);
        Assert.Empty(table.Snapshot());
        Assert.All(tokens, token => Assert.False(table.TryGet(token, out _)));
    }

    [Fact]
    public void A_token_no_slot_was_given_finds_nothing()
    {
        var table = new ConnectionTable<LinuxConnection>();

        Assert.False(table.TryGet(0, out _));
        Assert.False(table.TryGet(ulong.MaxValue, out _));
        table.Remove(ulong.MaxValue);
        Assert.True(table.IsEmpty);
    }

    // Real connections of the epoll engine, accepted over loopback; the table holds them without their reactor.
    private sealed class AcceptedConnections : IAsyncDisposable
    {
        private readonly LinuxTransportFactory _factory;
        private readonly List<Socket> _clients = [];

        private AcceptedConnections(LinuxTransportFactory factory) => _factory = factory;

        public List<LinuxConnection> Connections { get; } = [];

        public static async Task<AcceptedConnections> OpenAsync(int count)
        {
            var options = new LinuxTransportOptions(new BlockPool(), 64 * 1024, 64 * 1024, Threads: 1) { Engine = LinuxEngine.Epoll };
            var accepted = new AcceptedConnections(new LinuxTransportFactory(options, TimeProvider.System, NullLoggerFactory.Instance));
            var listener = await accepted._factory.BindAsync(new IPEndPoint(IPAddress.Loopback, 0));
            for (var i = 0; i < count; i++)
            {
                var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                accepted._clients.Add(client);
                await client.ConnectAsync((IPEndPoint)listener.EndPoint);
                var server = await listener.AcceptAsync() ?? throw new InvalidOperationException("The listener accepted nothing.");
                accepted.Connections.Add((LinuxConnection)server);
            }

            await listener.DisposeAsync();
            return accepted;
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var connection in Connections)
            {
                await connection.DisposeAsync();
            }

            foreach (var client in _clients)
            {
                client.Dispose();
            }

            _factory.Dispose();
        }
    }
}
