using System.Diagnostics;
using System.Text;
using EchoHost.Tests.Support;

namespace EchoHost.Tests.Hardening;

/// <summary>
/// Memory stays bounded whatever clients do. The host runs in its own process so that its resident memory
/// can be read without the test's own buffers in it.
/// </summary>
[Collection(SerialTests.Name)]
public sealed class BackPressureTests
{
    private const long MiB = 1024 * 1024;

    [Fact]
    public async Task A_client_that_writes_without_reading_is_paused_without_growing_memory_and_others_are_served()
    {
        using var host = HostProcess.StartOnEphemeralPorts(
            ["--Echo:Framing=Chunk", "--Echo:ReplyPrefix=", "--Serilog:MinimumLevel:Override:EchoHost.Echo.EchoProtocol=Warning"]);
        var echo = await host.WaitForEchoListenerAsync();
        var before = host.ResidentBytes();

        await using var flooder = await EchoClient.ConnectAsync(echo);
        var sent = await ShutdownTests.PushUntilStalledAsync(flooder);
        var during = host.ResidentBytes();

        Assert.True(sent < 256 * MiB, "the server never stopped reading");
        Assert.True(during - before <= 64 * MiB, $"resident memory grew by {(during - before) / MiB} MiB");

        await using var other = await EchoClient.ConnectAsync(echo);
        var stopwatch = Stopwatch.StartNew();
        await other.SendAsync("ping\n");
        Assert.Equal("ping\n", await other.ReceiveTextAsync("ping\n"));
        // Starved, the other client would never be answered; 3 s leaves room for a machine busy with other tests.
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(3), $"the other client waited {stopwatch.Elapsed}");

        // Once the flooder reads, everything it sent comes back.
        var echoed = await flooder.ReceiveExactlyAsync(checked((int)sent));
        Assert.All(echoed, b => Assert.Equal(0, b));
    }

    [Fact]
    public async Task A_hundred_mebibytes_without_a_line_feed_come_back_in_bounded_pieces_in_bounded_memory()
    {
        using var host = HostProcess.StartOnEphemeralPorts(["--Serilog:MinimumLevel:Override:EchoHost.Echo.EchoProtocol=Warning"]);
        var echo = await host.WaitForEchoListenerAsync();
        var before = host.ResidentBytes();
        await using var client = await EchoClient.ConnectAsync(echo);

        const int total = 100 * (int)MiB;
        const int pieces = total / 8192;
        var prefix = "Echoed back: "u8.ToArray();
        var receiving = Task.Run(() => client.ReceiveExactlyAsync(total + (pieces * prefix.Length)));
        var chunk = Encoding.ASCII.GetBytes(new string('x', 64 * 1024));
        long peak = 0;
        for (var sent = 0; sent < total; sent += chunk.Length)
        {
            await client.SendAsync(chunk);
            if (sent % (8 * MiB) == 0)
            {
                peak = Math.Max(peak, host.ResidentBytes());
            }
        }

        var reply = await receiving;
        Assert.True(peak - before <= 64 * MiB, $"resident memory grew by {(peak - before) / MiB} MiB");
        for (var offset = 0; offset < reply.Length; offset += prefix.Length + 8192)
        {
            Assert.True(reply.AsSpan(offset, prefix.Length).SequenceEqual(prefix), $"no prefix at {offset}");
            Assert.True(reply.AsSpan(offset + prefix.Length, 8192).IndexOfAnyExcept((byte)'x') < 0, $"not a piece of 8192 at {offset}");
        }
    }
}
