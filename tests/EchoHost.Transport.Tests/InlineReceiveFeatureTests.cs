using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Text;
using EchoHost.Connections;
using EchoHost.Transport.Linux;
using EchoHost.Transport.Tests.Support;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;

namespace EchoHost.Transport.Tests;

/// <summary>
/// The inline path of both engines on real sockets, driven by a receiver that stands in for the runner: turns run
/// on the reactor's thread, their output goes to the socket (epoll's at once, io_uring's in a send that completes
/// later) until it is full, and what it does not take goes through the output pipe after it, in order and under the
/// pipe's back pressure.
/// </summary>
public sealed class InlineReceiveFeatureTests
{
    // More than two of the pool's blocks and less than three: io_uring sends such a turn from three, in one sendmsg,
    // and the socket's small buffers make it take them in parts.
    private const int BytesPerTurn = 40 * 1024;
    private const uint EpollIn = 0x001;
    private const uint EpollReadHangUp = 0x2000;

    [LinuxTransportFact]
    public Task On_epoll_output_the_socket_does_not_take_goes_through_the_output_pipe_in_order_under_its_back_pressure() =>
        OutputTheSocketDoesNotTakeGoesThroughTheOutputPipeInOrder("Linux");

    [Theory]
    [IoUringKind]
    public Task On_io_uring_output_the_socket_does_not_take_goes_through_the_output_pipe_in_order_under_its_back_pressure(string kind) =>
        OutputTheSocketDoesNotTakeGoesThroughTheOutputPipeInOrder(kind);

    [LinuxTransportFact]
    public Task On_epoll_the_output_pipe_made_for_what_the_socket_did_not_take_goes_once_the_peer_read_it_all() =>
        TheOutputPipeMadeForWhatTheSocketDidNotTakeGoesOnceThePeerReadItAll("Linux");

    [Theory]
    [IoUringKind]
    public Task On_io_uring_the_output_pipe_made_for_what_the_socket_did_not_take_goes_once_the_peer_read_it_all(string kind) =>
        TheOutputPipeMadeForWhatTheSocketDidNotTakeGoesOnceThePeerReadItAll(kind);

    [LinuxTransportFact]
    public Task On_epoll_a_receiver_that_attaches_after_a_reader_took_bytes_into_the_pipe_is_woken_to_read_them_first() =>
        AReceiverThatAttachesAfterBytesReachedThePipeIsWokenToReadThemFirst("Linux");

    [Theory]
    [IoUringKind]
    public Task On_io_uring_a_receiver_that_attaches_after_bytes_reached_the_pipe_is_woken_to_read_them_first(string kind) =>
        AReceiverThatAttachesAfterBytesReachedThePipeIsWokenToReadThemFirst(kind);

    [LinuxTransportFact]
    public Task On_epoll_a_pipe_a_reader_emptied_before_the_receiver_attached_is_let_go() =>
        APipeAReaderEmptiedBeforeTheReceiverAttachedIsLetGo("Linux");

    [Theory]
    [IoUringKind]
    public Task On_io_uring_a_pipe_a_reader_emptied_before_the_receiver_attached_is_let_go(string kind) =>
        APipeAReaderEmptiedBeforeTheReceiverAttachedIsLetGo(kind);

    [LinuxTransportFact]
    public Task On_epoll_an_input_pipe_let_go_with_its_read_cancelled_is_kept_and_the_next_read_is_cancelled() =>
        AnInputPipeLetGoWithItsReadCancelledIsKept("Linux");

    [Theory]
    [IoUringKind]
    public Task On_io_uring_an_input_pipe_let_go_with_its_read_cancelled_is_kept_and_the_next_read_is_cancelled(string kind) =>
        AnInputPipeLetGoWithItsReadCancelledIsKept(kind);

    [LinuxTransportFact]
    public Task On_epoll_bytes_that_arrive_before_anything_reads_wait_in_the_socket_for_the_receiver_inline() =>
        BytesThatArriveBeforeAnythingReadsWaitInTheSocketForTheReceiverInline("Linux");

    [Theory]
    [IoUringKind]
    public Task On_io_uring_bytes_that_arrive_before_anything_reads_wait_in_the_socket_for_the_receiver_inline(string kind) =>
        BytesThatArriveBeforeAnythingReadsWaitInTheSocketForTheReceiverInline(kind);

    [LinuxTransportFact]
    public Task On_epoll_more_than_one_receive_takes_that_waited_in_the_socket_all_reaches_the_receiver() =>
        MoreThanOneReceiveTakesThatWaitedInTheSocketAllReachesTheReceiver("Linux");

    [Theory]
    [IoUringKind]
    public Task On_io_uring_more_than_one_receive_takes_that_waited_in_the_socket_all_reaches_the_receiver(string kind) =>
        MoreThanOneReceiveTakesThatWaitedInTheSocketAllReachesTheReceiver(kind);

    [LinuxTransportFact]
    public Task On_epoll_copies_that_outgrow_the_turns_buffer_go_out_whole_and_in_order() =>
        CopiesThatOutgrowTheTurnsBufferGoOutWholeAndInOrder("Linux");

    [Theory]
    [IoUringKind]
    public Task On_io_uring_copies_that_outgrow_the_turns_buffer_go_out_whole_and_in_order(string kind) =>
        CopiesThatOutgrowTheTurnsBufferGoOutWholeAndInOrder(kind);

    [LinuxTransportFact]
    public Task On_epoll_a_turn_holds_no_block_once_it_ends_whether_it_wrote_or_not() =>
        ATurnHoldsNoBlockOnceItEnds("Linux");

    [Theory]
    [IoUringKind]
    public Task On_io_uring_the_block_a_reply_is_sent_from_goes_back_once_the_send_completes(string kind) =>
        ATurnHoldsNoBlockOnceItEnds(kind);

    [LinuxTransportFact]
    public Task On_epoll_forwarded_input_goes_out_in_order_between_written_bytes_also_when_the_socket_takes_part() =>
        ForwardedInputGoesOutInOrderBetweenWrittenBytes("Linux");

    [Theory]
    [IoUringKind]
    public Task On_io_uring_forwarded_input_goes_out_in_order_between_written_bytes_also_when_a_send_is_in_flight(string kind) =>
        ForwardedInputGoesOutInOrderBetweenWrittenBytes(kind);

    [LinuxTransportFact]
    public Task On_epoll_clients_that_never_read_leave_the_others_served() =>
        ClientsThatNeverReadLeaveTheOthersServed("Linux");

    [Theory]
    [IoUringKind]
    public Task On_io_uring_clients_that_never_read_leave_receive_buffers_for_the_others(string kind) =>
        ClientsThatNeverReadLeaveTheOthersServed(kind);

    // More clients than the io_uring ring has receive buffers forward until their socket is full and never read: the
    // send each leaves waiting would hold the buffer its bytes were received into for as long as it waits. Another
    // connection must still get a buffer for its receive, and its reply.
    private static async Task ClientsThatNeverReadLeaveTheOthersServed(string kind)
    {
        const int Stalled = 72;
        const int Sent = 40 * 1000;
        await using var transport = await TransportUnderTest.StartAsync(kind);
        var chunk = Pattern(1000);
        for (var i = 0; i < Stalled; i++)
        {
            var (server, client, inline) = await ConnectWithSmallBuffersAsync(transport);
            var stalled = new ForwardingReceiver(inline);
            Assert.True(inline.Attach(stalled, server.Transport));
            for (var sent = 0; sent < Sent; sent += chunk.Length)
            {
                await client.SendAsync(chunk, SocketFlags.None);
            }

            await Eventually.TrueAsync(() => stalled.Received == Sent, $"client {i + 1} of {Stalled}: {stalled.Received} of {Sent} bytes received");
        }

        var (other, otherClient) = await transport.ConnectAsync();
        var receiver = new ForwardingReceiver(other.Features.Get<IInlineReceiveFeature>()!);
        Assert.True(other.Features.Get<IInlineReceiveFeature>()!.Attach(receiver, other.Transport));
        await otherClient.SendAsync(chunk, SocketFlags.None);
        var reply = new byte[4 + chunk.Length];
        for (var total = 0; total < reply.Length;)
        {
            var read = await otherClient.ReceiveAsync(reply.AsMemory(total), SocketFlags.None).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            Assert.True(read > 0, "the server closed the connection that reads");
            total += read;
        }

        Assert.True(reply.AsSpan(4).SequenceEqual(chunk), "the reply differs from what was sent");
    }

    // Each turn writes a header with its input's length and forwards the input after it, as an echo forwards a
    // message after its prefix. Small socket buffers make the socket take part of a turn, so the rest goes to the
    // pipe (epoll) or waits there for the send in flight (io_uring); the bytes must come back in order, each turn's
    // after its header. Each write is a turn of its own, so on io_uring, while the send the socket stopped taking
    // reads from the ring's buffer, more receives than the ring has buffers come in: a buffer given back too early
    // is filled again before it is sent. The total stays under the output pipe's limit, so no flush waits.
    private static async Task ForwardedInputGoesOutInOrderBetweenWrittenBytes(string kind)
    {
        await using var transport = await TransportUnderTest.StartAsync(kind);
        var (server, client, inline) = await ConnectWithSmallBuffersAsync(transport);
        var receiver = new ForwardingReceiver(inline);
        Assert.True(inline.Attach(receiver, server.Transport));
        var sent = Pattern(120 * 520);
        for (var turn = 1; turn <= 120; turn++)
        {
            await client.SendAsync(sent.AsMemory((turn - 1) * 520, 520), SocketFlags.None);
            await Eventually.TrueAsync(() => receiver.Turns == turn, $"turn {turn} did not run");
        }

        var payload = new List<byte>();
        var framed = new List<byte>();
        var buffer = new byte[8192];
        while (payload.Count < sent.Length)
        {
            var read = await client.ReceiveAsync(buffer, SocketFlags.None).WaitAsync(TimeSpan.FromSeconds(10));
            Assert.True(read > 0, $"the server closed after {payload.Count} of {sent.Length} forwarded bytes");
            framed.AddRange(buffer.AsSpan(0, read));
            while (framed.Count >= 4 && framed.Count >= 4 + BitConverter.ToInt32([.. framed[..4]]))
            {
                var length = BitConverter.ToInt32([.. framed[..4]]);
                payload.AddRange(framed.GetRange(4, length));
                framed.RemoveRange(0, 4 + length);
            }
        }

        Assert.Null(receiver.Waited);
        Assert.True(payload.ToArray().AsSpan().SequenceEqual(sent), $"the bytes differ from byte {FirstDifference([.. payload])} on");
    }

    // Turns that write nothing, as a runner's turn on a partial line does (it then does not send), alternate with
    // turns that echo; each waits for the one before it. Epoll sends from the reactor's buffer; io_uring from a
    // block that goes back when its send completes. No pipe is made, so none holds one either.
    private static async Task ATurnHoldsNoBlockOnceItEnds(string kind)
    {
        await using var transport = await TransportUnderTest.StartAsync(kind);
        var (server, client) = await transport.ConnectAsync();
        var inline = server.Features.Get<IInlineReceiveFeature>()!;
        var receiver = new EchoReceiver(inline);
        Assert.True(inline.Attach(receiver, server.Transport));
        var reply = new byte[4];
        for (var turn = 1; turn <= 20; turn++)
        {
            var quiet = turn % 2 == 1;
            await client.SendAsync(quiet ? "quiet"u8.ToArray() : "echo"u8.ToArray(), SocketFlags.None);
            if (quiet)
            {
                await Eventually.TrueAsync(() => receiver.Turns == turn, $"turn {turn} did not run");
            }
            else
            {
                Assert.Equal(4, await client.ReceiveAsync(reply, SocketFlags.None));
                Assert.Equal("echo", Encoding.ASCII.GetString(reply));
            }
        }

        Assert.Null(receiver.Waited);
        await Eventually.TrueAsync(() => transport.Pool.Outstanding == 0, $"{transport.Pool.Outstanding} block(s) still out after the turns ended");
    }

    // Bytes received before anything reads stay in the socket, so the receiver that attaches parked gets them in an
    // inline turn and no pipe is made for them (the transport's reactor is a single thread here). On epoll the kernel shows it: the socket is watched for the peer's
    // leaving only (EPOLLRDHUP, in /proc/self/fdinfo), then for input again once the receiver attached.
    private static async Task BytesThatArriveBeforeAnythingReadsWaitInTheSocketForTheReceiverInline(string kind)
    {
        await using var transport = await TransportUnderTest.StartAsync(kind);
        var (server, client) = await transport.ConnectAsync();
        var socket = server.Features.Get<IConnectionSocketFeature>()!.Socket;
        await client.SendAsync("before"u8.ToArray(), SocketFlags.None);
        await Eventually.TrueAsync(() => socket.Available == 6, "the bytes did not arrive");

        // A round trip on another connection of the same (single) reactor: it has had its turn since the bytes came.
        var (other, otherClient) = await transport.ConnectAsync();
        var otherInput = other.Transport.Input;
        await otherClient.SendAsync("x"u8.ToArray(), SocketFlags.None);
        await Eventually.WithinAsync(otherInput.ReadAsync().AsTask(), "the reactor did not serve another connection");
        Assert.Equal(6, socket.Available);
        if (kind == "Linux")
        {
            await Eventually.TrueAsync(() => KernelView.EpollEvents(socket) is { } events && (events & (EpollIn | EpollReadHangUp)) == EpollReadHangUp,
                "epoll did not stop watching for input while nothing reads");
        }

        var receiver = new WakeReceiver();

        Assert.True(server.Features.Get<IInlineReceiveFeature>()!.Attach(receiver, server.Transport));

        await Eventually.TrueAsync(() => receiver.Turns == 1, "the receiver got no inline turn");
        Assert.Equal("before", receiver.Received);
        Assert.False(receiver.Woken.IsCompleted, "the receiver was woken to read a pipe");
        if (kind == "Linux")
        {
            Assert.True(KernelView.EpollEvents(socket) is { } watched && (watched & EpollIn) != 0, "epoll does not watch for input again");
        }
    }

    // One turn copies more than the reactor's output buffer holds, a piece at a time: the piece that does not fit
    // moves what the turn wrote before it to the output pipe, and goes after it.
    private static async Task CopiesThatOutgrowTheTurnsBufferGoOutWholeAndInOrder(string kind)
    {
        await using var transport = await TransportUnderTest.StartAsync(kind);
        var (server, client) = await transport.ConnectAsync();
        var inline = server.Features.Get<IInlineReceiveFeature>()!;
        var reply = Pattern(3 * 30_000);
        var receiver = new CopyingReceiver(inline, reply, 30_000);
        Assert.True(inline.Attach(receiver, server.Transport));

        await client.SendAsync("go"u8.ToArray(), SocketFlags.None);
        var received = new byte[reply.Length];
        for (var total = 0; total < received.Length;)
        {
            var read = await client.ReceiveAsync(received.AsMemory(total), SocketFlags.None).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            Assert.True(read > 0, $"the server closed after {total} of {reply.Length} bytes");
            total += read;
        }

        Assert.True(received.AsSpan().SequenceEqual(reply), $"the bytes differ from byte {FirstDifference(received)} on");
    }

    // More than a report's receives take waits in the socket, and nothing more arrives once the receiver attaches, so the
    // socket is reported ready once (epoll's reports are edge-triggered): every byte must still reach the receiver.
    private static async Task MoreThanOneReceiveTakesThatWaitedInTheSocketAllReachesTheReceiver(string kind)
    {
        const int Sent = 600 * 1024;
        await using var transport = await TransportUnderTest.StartAsync(kind);
        var (server, client) = await transport.ConnectAsync();
        var socket = server.Features.Get<IConnectionSocketFeature>()!.Socket;
        ReceiveBuffer.Reserve(socket, 4 * Sent);
        var sent = Encoding.ASCII.GetString(Pattern(Sent).Select(b => (byte)('a' + b % 26)).ToArray());
        await client.SendAsync(Encoding.ASCII.GetBytes(sent), SocketFlags.None);
        await Eventually.TrueAsync(() => socket.Available == Sent, ReceiveBuffer.TooSmall);

        var receiver = new WakeReceiver();
        Assert.True(server.Features.Get<IInlineReceiveFeature>()!.Attach(receiver, server.Transport));

        await Eventually.TrueAsync(() => receiver.Received.Length == Sent, "the receiver did not get every byte");
        Assert.Equal(sent, receiver.Received);
    }

    // As middleware reads a PROXY header: a reader takes the input pipe and consumes all there was, then the receiver
    // attaches parked. The transport lets the emptied pipe go rather than waking the receiver to read it: what comes
    // next reaches the receiver inline, and nothing holds the pipe any more.
    private static async Task APipeAReaderEmptiedBeforeTheReceiverAttachedIsLetGo(string kind)
    {
        await using var transport = await TransportUnderTest.StartAsync(kind);
        var (server, client) = await transport.ConnectAsync();
        var pipe = await ReadAllAsync(server, client, "header"u8.ToArray());
        var receiver = new WakeReceiver();

        Assert.True(server.Features.Get<IInlineReceiveFeature>()!.Attach(receiver, server.Transport));

        // A round trip on another connection of the same (single) reactor: it has taken the attach since.
        var (other, otherClient) = await transport.ConnectAsync();
        var otherInput = other.Transport.Input;
        await otherClient.SendAsync("x"u8.ToArray(), SocketFlags.None);
        await Eventually.WithinAsync(otherInput.ReadAsync().AsTask(), "the reactor did not serve another connection");
        await client.SendAsync("after"u8.ToArray(), SocketFlags.None);
        await Eventually.TrueAsync(() => receiver.Turns == 1, "the receiver got no inline turn");
        Assert.Equal("after", receiver.Received);
        Assert.False(receiver.Woken.IsCompleted, "the receiver was woken to read an empty pipe");
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        Assert.False(pipe.IsAlive, "the emptied input pipe is still held");
    }

    // As a runner that a shutdown reached during a turn: its pending read was cancelled, and it lets the pipe go as it
    // parks. The cancellation is what ends that connection, so the pipe stays and its next read returns cancelled.
    private static async Task AnInputPipeLetGoWithItsReadCancelledIsKept(string kind)
    {
        await using var transport = await TransportUnderTest.StartAsync(kind);
        var (server, client) = await transport.ConnectAsync();
        var inline = server.Features.Get<IInlineReceiveFeature>()!;
        var receiver = new CancellingReceiver(inline, server.Transport);
        Assert.True(inline.Attach(receiver, server.Transport));

        await client.SendAsync("x"u8.ToArray(), SocketFlags.None);
        await Eventually.TrueAsync(() => receiver.Turns == 1, "the receiver got no inline turn");

        var read = await Eventually.WithinAsync(server.Transport.Input.ReadAsync().AsTask(), "the cancelled read was lost with the pipe");
        Assert.True(read.IsCanceled);
    }

    // Reads what the client sent through the transport's input and consumes all of it; a weak reference to that reader.
    private static async Task<WeakReference> ReadAllAsync(ConnectionContext server, Socket client, byte[] data)
    {
        var input = server.Transport.Input;
        await client.SendAsync(data, SocketFlags.None);
        var read = await input.ReadAsync();
        Assert.Equal(data.Length, read.Buffer.Length);
        input.AdvanceTo(read.Buffer.End);
        return new WeakReference(input);
    }

    // The kernel's count of unread bytes says when the reactor has taken them into the pipe, which a reader (as
    // middleware that reads a header would be) asked for before the receiver attached.
    private static async Task AReceiverThatAttachesAfterBytesReachedThePipeIsWokenToReadThemFirst(string kind)
    {
        await using var transport = await TransportUnderTest.StartAsync(kind);
        var (server, client) = await transport.ConnectAsync();
        var socket = server.Features.Get<IConnectionSocketFeature>()!.Socket;
        var input = server.Transport.Input;
        await client.SendAsync("before"u8.ToArray(), SocketFlags.None);
        await Eventually.TrueAsync(() => socket.Available == 0, "the reactor did not receive the bytes");
        var receiver = new WakeReceiver();

        Assert.True(server.Features.Get<IInlineReceiveFeature>()!.Attach(receiver, server.Transport));

        await Eventually.WithinAsync(receiver.Woken, "the receiver was not woken to read the pipe");
        await client.SendAsync("after"u8.ToArray(), SocketFlags.None);
        var read = await input.ReadAsync();
        Assert.StartsWith("before", Encoding.ASCII.GetString(read.Buffer));
        Assert.Equal(0, receiver.Turns);
    }

    private static async Task OutputTheSocketDoesNotTakeGoesThroughTheOutputPipeInOrder(string kind)
    {
        await using var transport = await TransportUnderTest.StartAsync(kind);
        var (server, client, inline) = await ConnectWithSmallBuffersAsync(transport);
        var receiver = new PatternReceiver(inline);
        Assert.False(inline.Attach(receiver, new DuplexPipe(new Pipe().Reader, server.Transport.Output)));
        Assert.True(inline.Attach(receiver, server.Transport));

        // Each byte the client sends is one turn that writes BytesPerTurn; the client reads nothing until the
        // flush of a turn waits, which only the output pipe's limit can make it do.
        for (var sent = 1; !receiver.Stalled; sent++)
        {
            Assert.True(sent <= 64, $"{sent * BytesPerTurn} bytes written and the flush never waited");
            await client.SendAsync(new byte[1], SocketFlags.None);
            await Eventually.TrueAsync(() => receiver.Turns == sent, $"turn {sent} did not run");
        }

        Assert.True(receiver.OnReactorThread, "a turn ran off the reactor's thread");
        await ReceivePatternAsync(client, 0, receiver.Turns * BytesPerTurn);
        await Eventually.WithinAsync(receiver.Flush!, "the waiting flush did not complete once the client read");
    }

    // Turns write more than the socket's small buffers take, and what it does not take waits in an output pipe made
    // for it: on epoll the rest of the first turn; on io_uring, which sends a turn from blocks of its own, the second
    // turn, behind the first's send in flight. Once the client has read it all, nothing holds that pipe any more,
    // and a later turn's bytes still follow in order.
    private static async Task TheOutputPipeMadeForWhatTheSocketDidNotTakeGoesOnceThePeerReadItAll(string kind)
    {
        await using var transport = await TransportUnderTest.StartAsync(kind);
        var (server, client, inline) = await ConnectWithSmallBuffersAsync(transport);
        var receiver = new PatternReceiver(inline);
        Assert.True(inline.Attach(receiver, server.Transport));

        var turns = kind == "Linux" ? 1 : 2;
        for (var turn = 1; turn <= turns; turn++)
        {
            await client.SendAsync(new byte[1], SocketFlags.None);
            await Eventually.TrueAsync(() => receiver.Turns == turn, $"turn {turn} did not run");
        }

        var pipe = OutputPipeOf(server);
        await ReceivePatternAsync(client, 0, turns * BytesPerTurn);
        await Eventually.TrueAsync(
            () =>
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
                return !pipe.IsAlive;
            },
            "the output pipe is still held after the client read all it held");

        await client.SendAsync(new byte[1], SocketFlags.None);
        await Eventually.TrueAsync(() => receiver.Turns == turns + 1, "the last turn did not run");
        await ReceivePatternAsync(client, turns * BytesPerTurn, BytesPerTurn);
        Assert.False(receiver.Stalled, "a flush waited");
    }

    // A weak reference to the connection's output pipe, through its writer, which the engine's own side reads.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference OutputPipeOf(ConnectionContext server) => new(((LinuxConnection)server).OutputWriter);

    // Reads `count` bytes and checks they continue the pattern from byte `from`.
    private static async Task ReceivePatternAsync(Socket client, int from, int count)
    {
        var received = new byte[count];
        var total = 0;
        while (total < count)
        {
            var read = await client.ReceiveAsync(received.AsMemory(total), SocketFlags.None);
            Assert.True(read > 0, $"the server closed after {total} of {count} bytes");
            total += read;
        }

        var pattern = Pattern(from + count).AsSpan(from);
        Assert.True(received.AsSpan().SequenceEqual(pattern), $"the bytes differ from byte {from + received.AsSpan().CommonPrefixLength(pattern)} on");
    }

    // A connection whose socket buffers are 4 KiB each way, so that what a turn writes soon outgrows what the socket takes.
    private static async Task<(ConnectionContext Server, Socket Client, IInlineReceiveFeature Inline)> ConnectWithSmallBuffersAsync(TransportUnderTest transport)
    {
        var (server, client) = await transport.ConnectAsync(clientReceiveBuffer: 4096);
        server.Features.Get<IConnectionSocketFeature>()!.Socket.SendBufferSize = 4096;
        return (server, client, server.Features.Get<IInlineReceiveFeature>()!);
    }

    private static int FirstDifference(byte[] received) => received.AsSpan().CommonPrefixLength(Pattern(received.Length));

    private static byte[] Pattern(int length)
    {
        var bytes = new byte[length];
        for (var i = 0; i < length; i++)
        {
            bytes[i] = (byte)(i % 251);
        }

        return bytes;
    }

    // Writes the next BytesPerTurn of a running count each turn, and stops parking once a flush waits.
    private sealed class PatternReceiver(IInlineReceiveFeature feature) : IInlineReceiver
    {
        private long _written;
        private volatile int _turns;

        public bool IsParked => Flush is null;

        public int Turns => _turns;

        public bool Stalled => Flush is { IsCompleted: false };

        public bool OnReactorThread { get; private set; } = true;

        public Task<FlushResult>? Flush { get; private set; }

        public int? Receive(in ReadOnlySequence<byte> data)
        {
            OnReactorThread &= feature.IsReceivingThread;
            var output = feature.BeginOutput();
            var span = output.GetSpan(BytesPerTurn)[..BytesPerTurn];
            for (var i = 0; i < span.Length; i++)
            {
                span[i] = (byte)(_written++ % 251);
            }

            output.Advance(BytesPerTurn);
            var flush = feature.Send();
            if (!flush.IsCompleted)
            {
                Flush = flush.AsTask();
            }
            else
            {
                _ = flush.Result;
            }

            _turns++;
            return (int)data.Length;
        }

        public void Wake()
        {
        }
    }

    // Writes each turn's length, then forwards the turn's input.
    private sealed class ForwardingReceiver(IInlineReceiveFeature feature) : IInlineReceiver
    {
        private volatile int _turns;
        private volatile int _received;

        public bool IsParked => true;

        public int Turns => _turns;

        public int Received => _received;

        /// <summary>A flush that could not complete at once: the test keeps under the pipe's limit, so none should.</summary>
        public Task<FlushResult>? Waited { get; private set; }

        public int? Receive(in ReadOnlySequence<byte> data)
        {
            var output = feature.BeginOutput();
            BitConverter.TryWriteBytes(output.GetSpan(4), (int)data.Length);
            output.Advance(4);
            output.Forward(data);

            var flush = feature.Send();
            if (flush.IsCompleted)
            {
                _ = flush.Result;
            }
            else
            {
                Waited = flush.AsTask();
            }

            _received += (int)data.Length;
            _turns++;
            return (int)data.Length;
        }

        public void Wake()
        {
        }
    }

    // Echoes what it receives, except "quiet", which it consumes writing nothing and not sending, as a runner does.
    private sealed class EchoReceiver(IInlineReceiveFeature feature) : IInlineReceiver
    {
        private volatile int _turns;

        public bool IsParked => true;

        public int Turns => _turns;

        /// <summary>A send that could not complete at once: each turn here waits for the one before it, so none should.</summary>
        public Task<FlushResult>? Waited { get; private set; }

        public int? Receive(in ReadOnlySequence<byte> data)
        {
            var output = feature.BeginOutput();
            if (!data.FirstSpan.SequenceEqual("quiet"u8))
            {
                output.Write(data.FirstSpan);
                var flush = feature.Send();
                if (flush.IsCompleted)
                {
                    _ = flush.Result;
                }
                else
                {
                    Waited = flush.AsTask();
                }
            }

            _turns++;
            return (int)data.Length;
        }

        public void Wake()
        {
        }
    }

    // Each turn copies the reply in pieces and sends it.
    private sealed class CopyingReceiver(IInlineReceiveFeature feature, byte[] reply, int piece) : IInlineReceiver
    {
        public bool IsParked => true;

        public int? Receive(in ReadOnlySequence<byte> data)
        {
            var output = feature.BeginOutput();
            for (var at = 0; at < reply.Length; at += piece)
            {
                output.Write(reply.AsSpan(at, Math.Min(piece, reply.Length - at)));
            }

            // What the socket does not take at once goes through the output pipe as the client reads; the test reads it all.
            _ = feature.Send().AsTask();
            return (int)data.Length;
        }

        public void Wake()
        {
        }
    }

    // Parked until woken, as a runner that starts parked is: it records its inline turns, and once woken it takes none.
    private sealed class WakeReceiver : IInlineReceiver
    {
        private readonly TaskCompletionSource _woken = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Woken => _woken.Task;

        private volatile int _turns;

        public int Turns => _turns;

        public string Received { get; private set; } = "";

        public bool IsParked => !_woken.Task.IsCompleted;

        public int? Receive(in ReadOnlySequence<byte> data)
        {
            Received += Encoding.ASCII.GetString(data);
            _turns++;
            return (int)data.Length;
        }

        public void Wake() => _woken.TrySetResult();
    }

    // In its one turn it takes the input pipe, cancels its read and lets it go, as the runner parks after a turn in
    // which a shutdown was asked for.
    private sealed class CancellingReceiver(IInlineReceiveFeature feature, IDuplexPipe pipes) : IInlineReceiver
    {
        private volatile int _turns;

        public int Turns => _turns;

        public bool IsParked => _turns == 0;

        public int? Receive(in ReadOnlySequence<byte> data)
        {
            pipes.Input.CancelPendingRead();
            feature.ReleaseInput();
            _turns++;
            return (int)data.Length;
        }

        public void Wake()
        {
        }
    }

    private sealed record DuplexPipe(PipeReader Input, PipeWriter Output) : IDuplexPipe;
}
