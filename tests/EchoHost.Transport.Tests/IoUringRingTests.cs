using EchoHost.Transport.Tests.Support;

namespace EchoHost.Transport.Tests;

/// <summary>What the io_uring engine leaves waiting in its ring for a connection, as the kernel lists it.</summary>
public sealed class IoUringRingTests
{
    private const int PollAdd = 6;

    [Theory]
    [IoUringKind]
    public async Task A_connection_whose_reader_arrived_leaves_no_poll_for_the_peer_leaving(string kind)
    {
        await using var transport = await TransportUnderTest.StartAsync(kind);
        for (var i = 0; i < 3; i++)
        {
            var (server, client) = await transport.ConnectAsync();
            await client.SendAsync("x"u8.ToArray());
            var read = await Eventually.WithinAsync(server.Transport.Input.ReadAtLeastAsync(1).AsTask(), "the message did not arrive");
            server.Transport.Input.AdvanceTo(read.Buffer.End);
        }

        // Until a connection has a reader, a poll watches for its peer leaving; its receive hears that from then on.
        // What stays is the reactor's own polls: of its eventfd, and of the listening socket.
        await Eventually.TrueAsync(() => KernelView.RingRequestsWaiting(PollAdd) == 2, $"the ring holds {KernelView.RingRequestsWaiting(PollAdd)} polls for 3 connections that are being read");
    }
}
