using System.Net.Sockets;
using EchoHost.Buffers;
using EchoHost.Tests.Support;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace EchoHost.Tests.Buffers;

/// <summary>
/// Kestrel's socket transport really takes the echo listener's blocks from <see cref="LargeBlockMemoryPoolFactory"/>,
/// and only the echo listener's.
/// </summary>
public sealed class TransportBlockTests
{
    [Fact]
    public async Task The_echo_listener_takes_one_large_block_pool_per_io_queue_and_the_health_listener_none()
    {
        using var host = EchoHostFactory.Start(new Dictionary<string, string>
        {
            ["Transport:Kind"] = "Sockets",
            ["Echo:Framing"] = "Chunk",
            ["Echo:ReplyPrefix"] = "",
        });

        var factory = Assert.IsType<LargeBlockMemoryPoolFactory>(host.Services.GetRequiredService<IMemoryPoolFactory<byte>>());
        var ioQueues = host.Services.GetRequiredService<IOptions<SocketTransportOptions>>().Value.IOQueueCount;
        Assert.Equal(ioQueues, factory.CreatedPools);

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
