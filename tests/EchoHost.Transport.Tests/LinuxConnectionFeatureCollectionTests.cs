using System.Net;
using System.Net.Sockets;
using EchoHost.Connections;
using EchoHost.Transport.Linux;
using EchoHost.Transport.Tests.Support;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.Extensions.Logging.Abstractions;

namespace EchoHost.Transport.Tests;

/// <summary>
/// The feature collection of an epoll connection, accepted on a real loopback socket: the connection's own
/// features, the ones Kestrel and the middleware add, replacing and hiding one, and what enumeration shows.
/// </summary>
public sealed class LinuxConnectionFeatureCollectionTests
{
    private interface IAddedFeature;

    private sealed class AddedFeature : IAddedFeature;

    private sealed class ReplacementId : IConnectionIdFeature
    {
        public string ConnectionId { get; set; } = "replaced";
    }

    [LinuxTransportFact]
    public async Task Own_added_replaced_and_hidden_features_read_back_as_they_were_set()
    {
        await using var accepted = await AcceptOneAsync();
        var (connection, features) = (accepted.Connection, accepted.Connection.Features);

        Assert.Same(connection, features.Get<IConnectionIdFeature>());
        Assert.Same(connection, features.Get<IConnectionTransportFeature>());
        Assert.Same(connection, features.Get<IConnectionSocketFeature>());
        Assert.Same(connection, features.Get<IInlineReceiveFeature>());
        Assert.Null(features.Get<IAddedFeature>());
        Assert.Equal(8, features.Count());

        var added = new AddedFeature();
        var revision = features.Revision;
        features.Set<IAddedFeature>(added);
        Assert.Same(added, features.Get<IAddedFeature>());
        Assert.True(features.Revision > revision);
        Assert.Contains(features, pair => pair.Key == typeof(IAddedFeature) && ReferenceEquals(pair.Value, added));

        var replacement = new ReplacementId();
        features.Set<IConnectionIdFeature>(replacement);
        Assert.Same(replacement, features.Get<IConnectionIdFeature>());
        Assert.Single(features, pair => pair.Key == typeof(IConnectionIdFeature));

        features.Set<IConnectionSocketFeature>(null);
        features.Set<IAddedFeature>(null);
        Assert.Null(features.Get<IConnectionSocketFeature>());
        Assert.Null(features.Get<IAddedFeature>());
        Assert.DoesNotContain(features, pair => pair.Key == typeof(IConnectionSocketFeature) || pair.Key == typeof(IAddedFeature));
        Assert.Equal(7, features.Count());
    }

    private static async Task<AcceptedConnection> AcceptOneAsync()
    {
        var options = new LinuxTransportOptions(new BlockPool(), 64 * 1024, 64 * 1024, Threads: 1);
        var factory = new LinuxTransportFactory(options, TimeProvider.System, NullLoggerFactory.Instance);
        var listener = await factory.BindAsync(new IPEndPoint(IPAddress.Loopback, 0));
        var client = new TcpClient();
        await client.ConnectAsync((IPEndPoint)listener.EndPoint);
        var connection = await listener.AcceptAsync() ?? throw new InvalidOperationException("The listener accepted nothing.");
        return new AcceptedConnection(factory, listener, client, connection);
    }

    private sealed record AcceptedConnection(LinuxTransportFactory Factory, IConnectionListener Listener, TcpClient Client, ConnectionContext Connection)
        : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            Client.Dispose();
            await Connection.DisposeAsync();
            await Listener.DisposeAsync();
            Factory.Dispose();
        }
    }
}
