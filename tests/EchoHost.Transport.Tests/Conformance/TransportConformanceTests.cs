using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Text;
using EchoHost.Transport.Tests.Support;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;

namespace EchoHost.Transport.Tests.Conformance;

/// <summary>
/// What every transport EchoHost ships must do, checked against each on real loopback sockets: the connection's
/// pipes, its lifetime events, and what the kernel shows afterwards (the process's descriptors, socket states,
/// CPU time), never only the transport's own view of itself.
/// </summary>
public sealed class TransportConformanceTests
{
    public static TheoryData<string> Kinds => TransportUnderTest.Kinds;

    [Theory]
    [MemberData(nameof(Kinds))]
    [IoUringKind]
    public async Task Abort_during_back_pressure_wakes_the_blocked_flush_and_the_socket_leaves_the_process(string kind)
    {
        await using var transport = await TransportUnderTest.StartAsync(kind);
        var (server, _) = await transport.ConnectAsync(clientReceiveBuffer: 4096);
        var inode = KernelView.InodeOf(server);

        var chunk = new byte[64 * 1024];
        ValueTask<FlushResult> flush;
        var writes = 0;
        do
        {
            Assert.True(++writes < 1000, "the flush never waited on a client that does not read");
            flush = server.Transport.Output.WriteAsync(chunk);
        }
        while (flush.IsCompleted);

        server.Abort(new ConnectionAbortedException("test"));
        await Eventually.WithinAsync(FlushEndedAsync(flush), "the blocked flush was not woken by the abort");
        await Eventually.WithinAsync(server.DisposeAsync().AsTask(), "dispose did not finish after the abort");

        Assert.False(KernelView.IsOpen(inode), "the aborted socket is still one of the process's descriptors");
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    [IoUringKind]
    public async Task A_connection_an_accept_waited_for_and_connections_that_waited_in_the_backlog_are_each_served(string kind)
    {
        await using var transport = await TransportUnderTest.StartAsync(kind);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var waiting = transport.Listener.AcceptAsync(timeout.Token);
        var clients = new List<Socket>();
        try
        {
            clients.Add(await ConnectClientAsync(transport.EndPoint));
            var servers = new List<ConnectionContext> { await waiting ?? throw new InvalidOperationException("nothing accepted") };
            for (var i = 0; i < 3; i++)
            {
                clients.Add(await ConnectClientAsync(transport.EndPoint));
            }

            for (var i = 0; i < 3; i++)
            {
                servers.Add(await transport.Listener.AcceptAsync(timeout.Token) ?? throw new InvalidOperationException("nothing accepted"));
            }

            foreach (var (server, client) in servers.Zip(clients))
            {
                // One descriptor for the connection, whichever way it was accepted, and none once it is disposed.
                var inode = KernelView.InodeOf(server);
                Assert.Equal(1, KernelView.DescriptorsOf(inode));

                // io_uring completes a send with EAGAIN where a blocking one would leave a kernel worker waiting: the
                // Linux engines handle the first, so every descriptor they own is non-blocking, however accepted.
                if (kind != "Sockets")
                {
                    Assert.True(KernelView.IsNonBlocking(server), "an accepted descriptor is blocking");
                }
                Assert.Equal(client.LocalEndPoint, server.RemoteEndPoint);
                await server.Transport.Output.WriteAsync(Encoding.ASCII.GetBytes($"to {client.LocalEndPoint}"));
                var expected = $"to {client.LocalEndPoint}";
                var received = new byte[expected.Length];
                var got = 0;
                while (got < received.Length)
                {
                    got += await client.ReceiveAsync(received.AsMemory(got), timeout.Token);
                }

                Assert.Equal(expected, Encoding.ASCII.GetString(received));
                server.Abort();
                await server.DisposeAsync();
                Assert.False(KernelView.IsOpen(inode), "a disposed connection's socket is still one of the process's descriptors");
            }
        }
        finally
        {
            clients.ForEach(client => client.Dispose());
        }
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    [IoUringKind]
    public async Task A_backlog_of_a_hundred_connections_is_accepted_in_full_each_connection_once(string kind)
    {
        // More than the Linux transport accepts in a row before it lets its reactor serve the rest, several times over.
        const int count = 100;
        await using var transport = await TransportUnderTest.StartAsync(kind);
        var clients = new List<Socket>();
        try
        {
            for (var i = 0; i < count; i++)
            {
                clients.Add(await ConnectClientAsync(transport.EndPoint));
            }

            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            var servers = new List<ConnectionContext>();
            for (var i = 0; i < count; i++)
            {
                servers.Add(await transport.Listener.AcceptAsync(timeout.Token) ?? throw new InvalidOperationException($"the listener stopped after {i} connections"));
            }

            var served = clients.Select(c => (IPEndPoint)c.LocalEndPoint!).ToHashSet();
            Assert.Equal(count, servers.Select(s => (IPEndPoint)s.RemoteEndPoint!).Count(served.Remove));
            foreach (var server in servers)
            {
                server.Abort();
                await server.DisposeAsync();
            }
        }
        finally
        {
            clients.ForEach(client => client.Dispose());
        }
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    [IoUringKind]
    public async Task Unbinding_ends_a_waiting_accept_with_nothing_and_the_port_refuses_connections_at_once(string kind)
    {
        await using var transport = await TransportUnderTest.StartAsync(kind);
        var endPoint = transport.EndPoint;
        var waiting = transport.Listener.AcceptAsync().AsTask();

        await Eventually.WithinAsync(transport.Listener.UnbindAsync().AsTask(), "unbinding did not finish");

        Assert.Null(await Eventually.WithinAsync(waiting, "the waiting accept did not end when the listener was unbound"));
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var refused = await Assert.ThrowsAsync<SocketException>(async () => await client.ConnectAsync(endPoint));
        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    [IoUringKind]
    public async Task An_accept_cancelled_while_it_waits_ends_and_the_next_accept_takes_the_next_connection(string kind)
    {
        await using var transport = await TransportUnderTest.StartAsync(kind);
        using (var cancel = new CancellationTokenSource())
        {
            var waiting = transport.Listener.AcceptAsync(cancel.Token).AsTask();
            cancel.Cancel();

            // Kestrel's socket transport throws; the Linux transport ends the accept with null, as an unbind does.
            var ended = await Task.WhenAny(waiting, Task.Delay(TimeSpan.FromSeconds(10)));
            Assert.True(ended == waiting, "the cancelled accept did not end");
            Assert.True(waiting.IsCanceled || await waiting is null, "the cancelled accept returned a connection");
        }

        var (server, client) = await transport.ConnectAsync();
        Assert.Equal(client.LocalEndPoint, server.RemoteEndPoint);
    }

    private static async Task<Socket> ConnectClientAsync(EndPoint endPoint)
    {
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(endPoint);
        return client;
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    [IoUringKind]
    public async Task The_endpoints_are_the_sockets_until_middleware_replaces_them_and_outlive_the_socket(string kind)
    {
        await using var transport = await TransportUnderTest.StartAsync(kind);
        var (server, client) = await transport.ConnectAsync();

        Assert.Equal(client.LocalEndPoint, server.RemoteEndPoint);
        Assert.Equal(client.RemoteEndPoint, server.LocalEndPoint);

        // What the lifetime log names when the connection closes is read after the socket is gone.
        client.Shutdown(SocketShutdown.Send);
        await Eventually.WithinAsync(DrainAsync(server.Transport.Input), "the input did not end after the client's FIN");
        await Eventually.WithinAsync(server.DisposeAsync().AsTask(), "dispose did not finish");
        Assert.Equal(client.LocalEndPoint, server.RemoteEndPoint);

        // A PROXY header's client and destination.
        var named = new IPEndPoint(IPAddress.Parse("2001:db8::7"), 4242);
        server.RemoteEndPoint = named;
        server.LocalEndPoint = null;
        Assert.Equal(named, server.RemoteEndPoint);
        Assert.Null(server.LocalEndPoint);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    [IoUringKind]
    public async Task A_reset_while_reading_is_paused_ends_the_input_and_leaves_the_transport_idle(string kind)
    {
        await using var transport = await TransportUnderTest.StartAsync(kind);
        var (server, client) = await transport.ConnectAsync();
        var inode = KernelView.InodeOf(server);

        // More than the input pipe holds: the transport stops reading until the application consumes.
        await client.SendAsync(new byte[TransportUnderTest.MaxReadBufferSize * 3]);
        await Eventually.TrueAsync(() => Held(server.Transport.Input) >= TransportUnderTest.MaxReadBufferSize, "the input pipe did not fill");
        client.LingerState = new LingerOption(true, 0);
        client.Close();

        // A loop woken again and again by the reset would take a whole core for the two seconds.
        var cpu = KernelView.CpuTime();
        await Task.Delay(TimeSpan.FromSeconds(2));
        var spent = KernelView.CpuTime() - cpu;
        Assert.True(spent < TimeSpan.FromSeconds(1), $"the process used {spent.TotalMilliseconds:0} ms of CPU in 2 s while a reset connection sat paused");

        await Eventually.WithinAsync(DrainAsync(server.Transport.Input), "the input did not end after the reset");
        await Eventually.WithinAsync(server.DisposeAsync().AsTask(), "dispose did not finish after the reset");
        Assert.False(KernelView.IsOpen(inode), "the reset socket is still one of the process's descriptors");
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    [IoUringKind]
    public async Task A_client_that_sends_far_more_than_the_input_holds_finds_the_rest_left_in_the_socket(string kind)
    {
        const int Flood = 1024 * 1024;
        const long OneReceive = 64 * 1024;
        await using var transport = await TransportUnderTest.StartAsync(kind);
        var (server, client) = await transport.ConnectAsync();
        ReceiveBuffer.Reserve(server.Features.Get<IConnectionSocketFeature>()!.Socket, 4 * Flood);
        var input = server.Transport.Input;

        // A message read and answered first empties the socket, as in ping-pong, where the io_uring engine leaves a
        // multishot receive queued; then the flood, which nothing reads.
        await client.SendAsync("ping"u8.ToArray());
        Assert.Equal("ping", Encoding.ASCII.GetString(await Eventually.WithinAsync(ReadAtLeastAsync(input, 4), "the first message did not arrive")));
        await client.SendAsync(new byte[Flood]);
        var clientPort = ((IPEndPoint)client.LocalEndPoint!).Port;
        await Eventually.TrueAsync(() => KernelView.UnacknowledgedByServer(transport.EndPoint.Port, clientPort) == 0, ReceiveBuffer.TooSmall);
        await Eventually.TrueAsync(() => Held(input) >= TransportUnderTest.MaxReadBufferSize, "the input pipe did not fill");

        // Whatever reading took after it paused has left the socket by now; the kernel holds the rest for the reader.
        await Task.Delay(TimeSpan.FromMilliseconds(500));
        var taken = Flood - (KernelView.UnreadByServer(transport.EndPoint.Port, clientPort) ?? throw new InvalidOperationException("the server's end of the connection is not in the TCP table"));
        Assert.True(taken <= TransportUnderTest.MaxReadBufferSize + OneReceive, $"the transport took {taken} bytes from the socket, over its pipe's limit and one receive");

        Assert.Equal(Flood, (await Eventually.WithinAsync(ReadAtLeastAsync(input, Flood), "the reader did not get the rest")).Length);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    [IoUringKind]
    public async Task A_client_half_close_ends_the_input_and_the_reply_still_arrives_before_the_servers_fin(string kind)
    {
        await using var transport = await TransportUnderTest.StartAsync(kind);
        var (server, client) = await transport.ConnectAsync();

        await client.SendAsync("ping"u8.ToArray());
        client.Shutdown(SocketShutdown.Send);
        Assert.Equal("ping", Encoding.ASCII.GetString(await Eventually.WithinAsync(DrainAsync(server.Transport.Input), "the input did not end at the client's FIN")));

        await server.Transport.Output.WriteAsync("pong"u8.ToArray());
        await server.Transport.Output.CompleteAsync();
        Assert.Equal("pong", Encoding.ASCII.GetString(await Eventually.WithinAsync(ReceiveToEndAsync(client), "the reply and FIN did not arrive")));
        await Eventually.WithinAsync(server.DisposeAsync().AsTask(), "dispose did not finish");
        var clientPort = ((System.Net.IPEndPoint)client.LocalEndPoint!).Port;
        await Eventually.TrueAsync(() => KernelView.ServerSideState(transport.EndPoint.Port, clientPort) is null,
            $"the server's end is still in the kernel's table as {KernelView.ServerSideState(transport.EndPoint.Port, clientPort)}");
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    [IoUringKind]
    public async Task A_client_that_streams_many_blocks_then_half_closes_delivers_every_byte_before_the_end(string kind)
    {
        await using var transport = await TransportUnderTest.StartAsync(kind);
        var (server, client) = await transport.ConnectAsync();
        var data = new byte[300 * 1024];
        Random.Shared.NextBytes(data);

        // Several full blocks and the FIN are in the socket at once, so one receive step can read bytes and then the end.
        await client.SendAsync(data);
        client.Shutdown(SocketShutdown.Send);

        Assert.Equal(data, await Eventually.WithinAsync(DrainAsync(server.Transport.Input), "the input did not end after the client's FIN"));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    [IoUringKind]
    public async Task Many_blocks_that_waited_in_the_socket_all_reach_the_reader_while_the_client_keeps_its_side_open(string kind)
    {
        const int Sent = 300 * 1024;
        await using var transport = await TransportUnderTest.StartAsync(kind);
        var (server, client) = await transport.ConnectAsync();
        var socket = server.Features.Get<IConnectionSocketFeature>()!.Socket;
        ReceiveBuffer.Reserve(socket, 4 * Sent);
        var data = new byte[Sent];
        Random.Shared.NextBytes(data);

        // All of it reaches the server before anything reads (the Linux engines leave it in the socket until then), and
        // nothing arrives after it to report the socket ready again.
        await client.SendAsync(data);
        var clientPort = ((IPEndPoint)client.LocalEndPoint!).Port;
        await Eventually.TrueAsync(() => KernelView.UnacknowledgedByServer(transport.EndPoint.Port, clientPort) == 0, ReceiveBuffer.TooSmall);

        Assert.Equal(data, await Eventually.WithinAsync(ReadAtLeastAsync(server.Transport.Input, Sent), "the reader did not get every byte"));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    [IoUringKind]
    public async Task Completing_the_output_sends_everything_then_a_fin_while_the_client_still_has_its_side_open(string kind)
    {
        await using var transport = await TransportUnderTest.StartAsync(kind);
        var (server, client) = await transport.ConnectAsync();

        var reply = new byte[200 * 1024];
        Random.Shared.NextBytes(reply);
        await server.Transport.Output.WriteAsync(reply);
        await server.Transport.Output.CompleteAsync();

        Assert.Equal(reply, await Eventually.WithinAsync(ReceiveToEndAsync(client), "the reply and the server's FIN did not arrive"));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    [IoUringKind]
    public async Task A_client_dripping_one_byte_per_segment_is_held_in_one_block_not_one_per_byte(string kind)
    {
        await using var transport = await TransportUnderTest.StartAsync(kind);
        var (server, client) = await transport.ConnectAsync();
        var input = server.Transport.Input;

        const int bytes = 1000;
        long held = 0;
        var segments = 0;
        for (var i = 1; i <= bytes; i++)
        {
            // In lock step, so every byte is its own segment and its own receive.
            await client.SendAsync(new[] { (byte)'x' });
            do
            {
                var read = await input.ReadAsync();
                held = read.Buffer.Length;
                segments = Segments(read.Buffer);
                input.AdvanceTo(read.Buffer.Start, read.Buffer.End);
            }
            while (held < i);
        }

        Assert.Equal(bytes, held);
        Assert.True(segments <= 2, $"{bytes} dripped bytes are held in {segments} blocks");
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    [IoUringKind]
    public async Task Ten_thousand_connects_and_closes_leave_no_descriptor_behind(string kind)
    {
        await using var transport = await TransportUnderTest.StartAsync(kind);
        var before = KernelView.OpenDescriptors();
        const int connections = 10_000;
        const int parallel = 20;

        var accepting = Task.Run(async () =>
        {
            var served = new List<Task>();
            for (var i = 0; i < connections; i++)
            {
                var server = await transport.Listener.AcceptAsync() ?? throw new InvalidOperationException("The listener stopped.");
                served.Add(ServeUntilEndAsync(server));
            }

            await Task.WhenAll(served);
        });
        await Task.WhenAll(Enumerable.Range(0, parallel).Select(async _ =>
        {
            for (var i = 0; i < connections / parallel; i++)
            {
                using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                await client.ConnectAsync(transport.EndPoint);
                client.Shutdown(SocketShutdown.Send);
                await ReceiveToEndAsync(client);
            }
        }));
        await Eventually.WithinAsync(accepting, "not every connection ended", TimeSpan.FromSeconds(60));

        await Eventually.TrueAsync(() => KernelView.OpenDescriptors() <= before + 2,
            $"{KernelView.OpenDescriptors() - before} more descriptors open than before {connections} connections came and went");
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    [IoUringKind]
    public async Task Aborting_and_disposing_live_connections_at_shutdown_closes_every_socket_and_every_client_sees_the_end(string kind)
    {
        var transport = await TransportUnderTest.StartAsync(kind);
        var live = new List<(ConnectionContext Server, Socket Client, long Inode)>();
        for (var i = 0; i < 20; i++)
        {
            var (server, client) = await transport.ConnectAsync();
            live.Add((server, client, KernelView.InodeOf(server)));
        }

        // As Kestrel does when its shutdown timeout runs out.
        await transport.Listener.UnbindAsync();
        foreach (var (server, _, _) in live)
        {
            server.Abort(new ConnectionAbortedException("The server is stopping."));
        }

        await Eventually.WithinAsync(Task.WhenAll(live.Select(c => c.Server.DisposeAsync().AsTask())), "the aborted connections did not dispose");

        foreach (var (_, client, inode) in live)
        {
            Assert.False(KernelView.IsOpen(inode), "a socket outlived its connection");
            await Eventually.WithinAsync(ReceiveToEndAsync(client), "a client did not see its connection end");
        }

        await transport.DisposeAsync();
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    [IoUringKind]
    public async Task ConnectionClosed_fires_on_the_thread_pool_when_the_client_leaves_while_the_application_still_runs(string kind)
    {
        await using var transport = await TransportUnderTest.StartAsync(kind);
        var (server, client) = await transport.ConnectAsync();
        var fired = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        server.ConnectionClosed.Register(() => fired.TrySetResult(Thread.CurrentThread.IsThreadPoolThread));

        client.Shutdown(SocketShutdown.Both);
        client.Close();
        await Eventually.WithinAsync(DrainAsync(server.Transport.Input), "the input did not end when the client left");

        Assert.True(await Eventually.WithinAsync(fired.Task, "ConnectionClosed did not fire before the application disposed the connection"),
            "ConnectionClosed ran its callback on a transport thread, not the thread pool");
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    [IoUringKind]
    public async Task ConnectionClosed_first_asked_for_after_the_client_left_is_canceled_and_runs_a_callback_registered_then(string kind)
    {
        await using var transport = await TransportUnderTest.StartAsync(kind);
        var (server, client) = await transport.ConnectAsync();

        client.Shutdown(SocketShutdown.Both);
        client.Close();
        await Eventually.WithinAsync(DrainAsync(server.Transport.Input), "the input did not end when the client left");

        await Eventually.TrueAsync(() => server.ConnectionClosed.IsCancellationRequested, "ConnectionClosed was not canceled after the client left");
        var ran = false;
        server.ConnectionClosed.Register(() => ran = true);
        Assert.True(ran, "a callback registered on the canceled token did not run at once");
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    [IoUringKind]
    public async Task A_throwing_ConnectionClosed_callback_neither_skips_the_others_nor_stops_the_transport(string kind)
    {
        await using var transport = await TransportUnderTest.StartAsync(kind);
        var (server, client) = await transport.ConnectAsync();
        var later = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        server.ConnectionClosed.Register(() => throw new InvalidOperationException("an application's bug"));
        server.ConnectionClosed.Register(later.SetResult);

        client.Close();
        await Eventually.WithinAsync(later.Task, "a callback after the throwing one did not run");

        var (next, nextClient) = await transport.ConnectAsync();
        await nextClient.SendAsync("still here"u8.ToArray());
        nextClient.Shutdown(SocketShutdown.Send);
        Assert.Equal("still here", Encoding.ASCII.GetString(await Eventually.WithinAsync(DrainAsync(next.Transport.Input), "the transport stopped serving")));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    [IoUringKind]
    public async Task A_send_to_a_reset_peer_ends_the_output_and_the_connection_closes(string kind)
    {
        await using var transport = await TransportUnderTest.StartAsync(kind);
        var (server, client) = await transport.ConnectAsync();
        var inode = KernelView.InodeOf(server);
        client.LingerState = new LingerOption(true, 0);
        client.Close();

        await Eventually.WithinAsync(WriteUntilRefusedAsync(server.Transport.Output), "writing to a reset peer never failed");
        await Eventually.WithinAsync(server.DisposeAsync().AsTask(), "dispose did not finish after the failed send");
        Assert.False(KernelView.IsOpen(inode), "the socket is still one of the process's descriptors");
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    [IoUringKind]
    public async Task Disposing_twice_at_once_closes_the_socket_once_and_both_return(string kind)
    {
        await using var transport = await TransportUnderTest.StartAsync(kind);
        var (server, client) = await transport.ConnectAsync();
        var inode = KernelView.InodeOf(server);
        client.Shutdown(SocketShutdown.Send);

        await Eventually.WithinAsync(Task.WhenAll(server.DisposeAsync().AsTask(), server.DisposeAsync().AsTask()), "a dispose did not return");
        await server.DisposeAsync();

        Assert.False(KernelView.IsOpen(inode), "the socket is still one of the process's descriptors");
        Assert.Empty(await ReceiveToEndAsync(client));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    [IoUringKind]
    public async Task Three_hundred_connections_delivering_while_the_reactor_is_held_lose_nothing(string kind)
    {
        await using var transport = await TransportUnderTest.StartAsync(kind);
        var (blocker, blockerClient) = await transport.ConnectAsync();
        var senders = new List<(ConnectionContext Server, Socket Client)>();
        for (var i = 0; i < 300; i++)
        {
            senders.Add(await transport.ConnectAsync());
        }

        // The blocker's reader holds the thread its data arrives on (the reactor's, on the Linux transport's one
        // thread) while every other client sends, so their receives all become ready in one turn, more of them than
        // the io_uring engine has receive buffers. Whether the kernel hands out enough completions at once for one
        // to find no buffer depends on its version; one that does is received again.
        using var release = new ManualResetEventSlim();
        var arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var holding = ReadThenHoldThreadAsync(blocker.Transport.Input, arrived, release);
        await blockerClient.SendAsync("hold"u8.ToArray());
        await Eventually.WithinAsync(arrived.Task, "the blocker's data did not arrive");

        var messages = senders.Select((_, i) => Encoding.ASCII.GetBytes($"{i:000} " + new string((char)('a' + (i % 26)), 1000))).ToArray();
        await Task.WhenAll(senders.Select((pair, i) => pair.Client.SendAsync(messages[i])));
        release.Set();

        for (var i = 0; i < senders.Count; i++)
        {
            Assert.Equal(messages[i], await Eventually.WithinAsync(ReadAtLeastAsync(senders[i].Server.Transport.Input, messages[i].Length), $"connection {i} did not get its bytes"));
        }

        Assert.Equal("hold", Encoding.ASCII.GetString(await holding));
    }

    // Takes the first read's bytes on the thread they arrive on, and holds that thread until released.
    private static async Task<byte[]> ReadThenHoldThreadAsync(PipeReader input, TaskCompletionSource arrived, ManualResetEventSlim release)
    {
        var read = await input.ReadAsync().ConfigureAwait(false);
        var bytes = read.Buffer.ToArray();
        input.AdvanceTo(read.Buffer.End);
        arrived.SetResult();
        release.Wait(TimeSpan.FromSeconds(10));
        return bytes;
    }

    private static async Task<byte[]> ReadAtLeastAsync(PipeReader input, int length)
    {
        var read = await input.ReadAtLeastAsync(length);
        var bytes = read.Buffer.ToArray();
        input.AdvanceTo(read.Buffer.End);
        return bytes;
    }

    private static async Task ServeUntilEndAsync(ConnectionContext server)
    {
        await DrainAsync(server.Transport.Input);
        await server.Transport.Output.CompleteAsync();
        await server.DisposeAsync();
    }

    private static int Segments(ReadOnlySequence<byte> buffer)
    {
        var count = 0;
        foreach (var _ in buffer)
        {
            count++;
        }

        return count;
    }

    // What the input pipe holds, left unconsumed.
    private static long Held(PipeReader input)
    {
        if (!input.TryRead(out var read))
        {
            return 0;
        }

        input.AdvanceTo(read.Buffer.Start);
        return read.Buffer.Length;
    }

    // Reads to the end of the input, or to the transport's report of a reset; returns what arrived.
    private static async Task<byte[]> DrainAsync(PipeReader input)
    {
        var received = new List<byte>();
        try
        {
            while (true)
            {
                var read = await input.ReadAsync();
                received.AddRange(read.Buffer.ToArray());
                input.AdvanceTo(read.Buffer.End);
                if (read.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is ConnectionResetException or ConnectionAbortedException or IOException)
        {
        }

        await input.CompleteAsync();
        return received.ToArray();
    }

    private static async Task FlushEndedAsync(ValueTask<FlushResult> flush)
    {
        try
        {
            await flush;
        }
        catch (Exception ex) when (ex is ConnectionAbortedException or ConnectionResetException or IOException or OperationCanceledException)
        {
        }
    }

    private static async Task WriteUntilRefusedAsync(PipeWriter output)
    {
        var chunk = new byte[16 * 1024];
        try
        {
            while (!(await output.WriteAsync(chunk)).IsCompleted)
            {
                await Task.Delay(10);
            }
        }
        catch (Exception ex) when (ex is ConnectionAbortedException or ConnectionResetException or IOException or InvalidOperationException)
        {
        }
    }

    private static async Task<byte[]> ReceiveToEndAsync(Socket client)
    {
        var received = new MemoryStream();
        var buffer = new byte[64 * 1024];
        try
        {
            int read;
            while ((read = await client.ReceiveAsync(buffer)) > 0)
            {
                received.Write(buffer, 0, read);
            }
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionReset)
        {
        }

        return received.ToArray();
    }
}
