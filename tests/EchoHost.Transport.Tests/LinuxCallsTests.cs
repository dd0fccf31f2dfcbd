using System.Net;
using System.Net.Sockets;
using EchoHost.Shared;
using EchoHost.Transport.Tests.Support;

namespace EchoHost.Transport.Tests;

/// <summary>
/// The epoll engine's receive and send on real sockets: bytes moved, or the kernel's errno negated, which is read
/// only when a call fails; and a socket whose handle was released is refused before any call is made, a descriptor
/// that is not open by the kernel.
/// </summary>
public sealed class LinuxCallsTests
{
    private const int ConnectionReset = 104;
    private const int BrokenPipe = 32;
    private const int BadDescriptor = 9;

    [LinuxTransportFact]
    public async Task Receive_and_send_move_bytes_and_say_would_block_when_there_is_nothing_to_read()
    {
        var (server, client) = await ConnectedPairAsync();
        using (server)
        using (client)
        {
            var buffer = new byte[16];
            Assert.Equal(-LinuxCalls.WouldBlock, LinuxCalls.Receive(server.SafeHandle, buffer));

            Assert.Equal(5, LinuxCalls.Send(server.SafeHandle, "hello"u8));
            var received = await client.ReceiveAsync(buffer, SocketFlags.None);
            Assert.Equal("hello"u8.ToArray(), buffer[..received]);

            await client.SendAsync("hi"u8.ToArray(), SocketFlags.None);
            await Eventually.TrueAsync(() => server.Available == 2, "the client's bytes did not arrive");
            Assert.Equal(2, LinuxCalls.Receive(server.SafeHandle, buffer));
            Assert.Equal("hi"u8.ToArray(), buffer[..2]);
        }
    }

    [LinuxTransportFact]
    public async Task The_calls_on_a_descriptor_move_bytes_and_refuse_one_that_is_not_open()
    {
        var (server, client) = await ConnectedPairAsync();
        using (server)
        using (client)
        {
            var descriptor = (int)server.SafeHandle.DangerousGetHandle();
            var buffer = new byte[16];
            Assert.Equal(-LinuxCalls.WouldBlock, LinuxCalls.Receive(descriptor, buffer));

            Assert.Equal(5, LinuxCalls.Send(descriptor, "hello"u8));
            var received = await client.ReceiveAsync(buffer, SocketFlags.None);
            Assert.Equal("hello"u8.ToArray(), buffer[..received]);

            await client.SendAsync("hi"u8.ToArray(), SocketFlags.None);
            await Eventually.TrueAsync(() => server.Available == 2, "the client's bytes did not arrive");
            Assert.Equal(2, LinuxCalls.Receive(descriptor, buffer));
            Assert.Equal("hi"u8.ToArray(), buffer[..2]);

            Assert.Equal(-BadDescriptor, LinuxCalls.Receive(-1, buffer));
            Assert.Equal(-BadDescriptor, LinuxCalls.Send(-1, "x"u8));
        }
    }

    [LinuxTransportFact]
    public async Task A_reset_peer_gives_the_errno_of_the_reset()
    {
        var (server, client) = await ConnectedPairAsync();
        using (server)
        {
            client.LingerState = new LingerOption(true, 0);
            client.Dispose();
            await Eventually.TrueAsync(
                () => LinuxCalls.Receive(server.SafeHandle, new byte[16]) == -ConnectionReset, "the receive did not report the reset");

            var sent = LinuxCalls.Send(server.SafeHandle, "late"u8);
            Assert.True(sent is -BrokenPipe or -ConnectionReset, $"a send after the reset returned {sent}");
        }
    }

    [LinuxTransportFact]
    public async Task A_closed_socket_is_refused_before_the_call()
    {
        var (server, client) = await ConnectedPairAsync();
        using (client)
        {
            var handle = server.SafeHandle;
            server.Dispose();
            Assert.Throws<ObjectDisposedException>(() => LinuxCalls.Receive(handle, new byte[16]));
            Assert.Throws<ObjectDisposedException>(() => LinuxCalls.Send(handle, "x"u8));
        }
    }

    private static async Task<(Socket Server, Socket Client)> ConnectedPairAsync()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(listener.LocalEndPoint!);
        var server = await listener.AcceptAsync();
        return (server, client);
    }
}
