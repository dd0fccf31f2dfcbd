using System.Net.Sockets;
using EchoHost.Tests.Support;

namespace EchoHost.Tests.Integration;

/// <summary>
/// The Linux transport's epoll engine on its own, whatever Transport__Kind the run uses (CI runs the whole suite on
/// Auto, Linux and Sockets; these always run on epoll, which Auto falls back to where io_uring is refused).
/// </summary>
[Collection(SerialTests.Name)]
public sealed class LinuxTransportTests
{
    [Fact]
    public async Task It_says_so_at_start_and_carries_every_byte_of_a_large_body_then_ends_with_a_fin()
    {
        using var host = HostProcess.StartOnEphemeralPorts(["--Transport:Kind=Linux", "--Transport:Threads=2", "--Echo:Framing=Chunk", "--Echo:ReplyPrefix="]);
        var echo = await host.WaitForEchoListenerAsync();
        await host.WaitForOutputAsync(l => l.Contains("Echo listener on EchoHost's epoll transport (Transport:Kind=Linux) with 2 thread(s)", StringComparison.Ordinal));

        // More than the output pipe's limit and the socket buffers, so both back-pressure paths are taken.
        var payload = new byte[3 * 1024 * 1024 + 5];
        new Random(7).NextBytes(payload);
        using var client = new TcpClient();
        await client.ConnectAsync(echo);
        var stream = client.GetStream();
        var reading = Task.Run(async () =>
        {
            using var echoed = new MemoryStream();
            await stream.CopyToAsync(echoed);
            return echoed.ToArray();
        });
        await stream.WriteAsync(payload);
        client.Client.Shutdown(SocketShutdown.Send);

        Assert.Equal(payload, await reading.WaitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task Many_clients_at_once_are_each_answered_on_their_own_connection()
    {
        using var host = HostProcess.StartOnEphemeralPorts(["--Transport:Kind=Linux", "--Serilog:MinimumLevel:Override:EchoHost.Echo=Warning"]);
        var echo = await host.WaitForEchoListenerAsync();

        var answers = await Task.WhenAll(Enumerable.Range(0, 200).Select(async i =>
        {
            await using var client = await EchoClient.ConnectAsync(echo);
            await client.SendAsync($"client {i}\n");
            return System.Text.Encoding.ASCII.GetString(await client.ReceiveExactlyAsync($"Echoed back: client {i}\n".Length));
        }));

        Assert.Equal(Enumerable.Range(0, 200).Select(i => $"Echoed back: client {i}\n"), answers);
    }
}
