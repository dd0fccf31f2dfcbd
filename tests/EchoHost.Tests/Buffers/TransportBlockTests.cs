using System.Net.Sockets;
using EchoHost.Buffers;
using EchoHost.Tests.Support;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.DependencyInjection;

namespace EchoHost.Tests.Buffers;

/// <summary>Kestrel's socket transport really takes its blocks from <see cref="LargeBlockMemoryPoolFactory"/>.</summary>
public sealed class TransportBlockTests
{
    [Fact]
    public async Task The_socket_transport_asks_the_large_block_factory_for_its_pools()
    {
        using var host = EchoHostFactory.Start(new Dictionary<string, string>
        {
            ["Echo:Framing"] = "Chunk",
            ["Echo:ReplyPrefix"] = "",
        });

        var factory = Assert.IsType<LargeBlockMemoryPoolFactory>(host.Services.GetRequiredService<IMemoryPoolFactory<byte>>());
        Assert.True(factory.CreatedPools > 0, "Kestrel bound its listeners without asking the factory for a pool");

        // Bytes larger than one of Kestrel's own 4 KiB blocks and than one of ours still come back intact.
        var payload = new byte[3 * LargeBlockPoolExtensions.BlockSize + 5];
        new Random(11).NextBytes(payload);
        using var client = new TcpClient();
        await client.ConnectAsync(host.EchoEndPoint);
        var stream = client.GetStream();
        await stream.WriteAsync(payload);
        client.Client.Shutdown(SocketShutdown.Send);
        using var echoed = new MemoryStream();
        await stream.CopyToAsync(echoed);

        Assert.Equal(payload, echoed.ToArray());
    }
}
