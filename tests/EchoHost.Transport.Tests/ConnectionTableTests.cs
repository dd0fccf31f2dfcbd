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

        table.Add(first);
        var firstToken = first.Token;
        Assert.True(table.TryGet(firstToken, out var found));
        Assert.Same(first, found);

        table.Remove(firstToken);
        Assert.False(table.TryGet(firstToken, out _));
        Assert.True(table.IsEmpty);

        table.Add(second);
        var secondToken = second.Token;
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
        await using var accepted = await AcceptedConnections.OpenAsync(100);
        var table = new ConnectionTable<LinuxConnection>();

        foreach (var connection in accepted.Connections)
        {
            table.Add(connection);
        }

        var tokens = accepted.Connections.Select(connection => connection.Token).ToList();

        Assert.Equal(100, tokens.Distinct().Count());
        for (var i = 0; i < tokens.Count; i++)
        {
            Assert.True(table.TryGet(tokens[i], out var found));
            Assert.Same(accepted.Connections[i], found);
        }

        Assert.Equal(100, table.Snapshot().Count);
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

    // Connections of the epoll engine over real loopback sockets, made by a reactor but never started: no reactor's
    // table holds them, so the table under test alone gives them tokens.
    private sealed class AcceptedConnections : IAsyncDisposable
    {
        private readonly EpollReactor _reactor;
        private readonly List<Socket> _sockets = [];

        private AcceptedConnections(EpollReactor reactor) => _reactor = reactor;

        public List<LinuxConnection> Connections { get; } = [];

        public static async Task<AcceptedConnections> OpenAsync(int count)
        {
            var options = new LinuxTransportOptions(new BlockPool(), 64 * 1024, 64 * 1024, Threads: 1) { Engine = LinuxEngine.Epoll };
            var accepted = new AcceptedConnections(new EpollReactor(0, options, TimeProvider.System, NullLogger.Instance));
            using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            listener.Listen(count);
            for (var i = 0; i < count; i++)
            {
                var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                accepted._sockets.Add(client);
                await client.ConnectAsync(listener.LocalEndPoint!);
                Assert.Equal(0, AcceptedSocket.Accept(listener.SafeHandle, new LocalEndPoints(), out var socket));
                accepted.Connections.Add(accepted._reactor.Connect(socket));
            }

            return accepted;
        }

        public ValueTask DisposeAsync()
        {
            foreach (var socket in _sockets)
            {
                socket.Dispose();
            }

            foreach (var connection in Connections)
            {
                connection.Handle.Dispose();
            }

            _reactor.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
