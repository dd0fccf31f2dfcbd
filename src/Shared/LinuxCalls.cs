using System.Buffers;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace EchoHost.Shared;

/// <summary>
/// The Linux calls made on raw descriptors by the host's epoll transport and by echoctl bench's epoll engine:
/// accept, epoll, eventfd, recv, send (one block, or several in one sendmsg) and shutdown, with no task, copy or exception
/// between a loop and the kernel. A socket is always passed as its <see cref="SafeHandle"/>, which is held
/// for the call, so a descriptor number that was closed and reused by another socket is never acted on.
/// </summary>
internal static partial class LinuxCalls
{
    public const uint In = 0x001;
    public const uint Out = 0x004;
    public const uint Error = 0x008;
    public const uint HangUp = 0x010;

    // EPOLLRDHUP, and POLLRDHUP for a ring's poll: the peer shut down its sending side (it closed, or sent FIN).
    public const uint ReadHangUp = 0x2000;

    // EPOLLET: a socket is reported once per change of its state, not on every wait while it stays ready.
    public const uint EdgeTriggered = 0x80000000;

    public const int Add = 1;
    public const int Delete = 2;
    public const int Modify = 3;

    public const int WouldBlock = 11;
    public const int Interrupted = 4;
    public const int ShuttingDown = 108;
    public const int ShutdownWrite = 1;
    public const int ShutdownBoth = 2;
    public const int NoSignal = 0x4000;
    private const nuint OutputQueue = 0x5411;
    private const int IpProtocolTcp = 6;
    private const int TcpInfo = 11;
    private const byte TcpClose = 7;
    private const int DontWait = 0x40;

    // x86-64's system call numbers: these calls run nowhere else (IsSupported).
    private const long SysSendTo = 44;
    private const long SysReceiveFrom = 45;
    private const long SysSendMessage = 46;
    private const int SocketCloseOnExec = 0x80000;
    private const int SocketNonBlocking = 0x800;
    private const int TcpNoDelay = 1;

    /// <summary>The most blocks one <see cref="SendGather"/> sends.</summary>
    public const int MaxGather = 8;

    /// <summary>The kernel's <c>struct epoll_event</c> is packed on x86-64 only; the transport runs there only.</summary>
    public static bool IsSupported => OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture == Architecture.X64;

    /// <summary>The kernel's <c>struct msghdr</c>: the iovecs of a gathered send, no address, no control data.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct MessageHeader
    {
        public nint Name;
        public int NameLength;
        public nint Vectors;
        public nint VectorCount;
        public nint Control;
        public nint ControlLength;
        public int Flags;
    }

    [System.Runtime.CompilerServices.InlineArray(MaxGather)]
    private struct GatherPins
    {
        private MemoryHandle _pin;
    }

    [StructLayout(LayoutKind.Sequential, Pack = 4)]
    public struct EpollEvent
    {
        public uint Events;
        public ulong Data;
    }

    [LibraryImport("libc", EntryPoint = "epoll_create1", SetLastError = true)]
    public static partial int EpollCreate(int flags);

    [LibraryImport("libc", EntryPoint = "epoll_ctl", SetLastError = true)]
    private static partial int EpollControlRaw(int epoll, int operation, SafeHandle socket, ref EpollEvent interest);

    [LibraryImport("libc", EntryPoint = "epoll_ctl", SetLastError = true)]
    private static partial int EpollControlRaw(int epoll, int operation, int descriptor, ref EpollEvent interest);

    [LibraryImport("libc", EntryPoint = "epoll_wait", SetLastError = true)]
    public static unsafe partial int EpollWait(int epoll, EpollEvent* events, int maxEvents, int timeoutMilliseconds);

    [LibraryImport("libc", EntryPoint = "eventfd", SetLastError = true)]
    public static partial int EventFd(uint initial, int flags);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int descriptor);

    [LibraryImport("libc", EntryPoint = "shutdown", SetLastError = true)]
    public static partial int Shutdown(SafeHandle socket, int how);

    [LibraryImport("libc", EntryPoint = "accept4", SetLastError = true)]
    private static unsafe partial int AcceptRaw(SafeHandle listener, byte* address, ref int length, int flags);

    [LibraryImport("libc", EntryPoint = "getsockname", SetLastError = true)]
    private static unsafe partial int SocketNameRaw(SafeHandle socket, byte* address, ref int length);

    [LibraryImport("libc", EntryPoint = "setsockopt", SetLastError = true)]
    private static unsafe partial int SetOptionRaw(SafeHandle socket, int level, int name, byte* value, int length);

    [LibraryImport("libc", EntryPoint = "sendmsg", SetLastError = true)]
    private static unsafe partial nint SendMessageRaw(SafeHandle socket, MessageHeader* message, int flags);

    // send and recv, made once or twice per request, go through syscall(2) rather than glibc's wrappers: those are
    // cancellation points, which in a process of several threads cost two calls more around each system call. Both
    // are made with MSG_DONTWAIT and never block, so the thread stays in managed mode for them: a collection that
    // starts meanwhile waits the microseconds one returns in, and each call saves the runtime's transition frame.
    [LibraryImport("libc", EntryPoint = "syscall")]
    [SuppressGCTransition]
    private static partial nint Syscall(long number, nint a, nint b, nint c, nint d, nint e, nint f);

    /// <summary>Adds, changes or removes a socket's interest; 0, or -errno (ENOSPC when the user's watches are spent).</summary>
    public static int EpollControl(int epoll, int operation, SafeHandle socket, ref EpollEvent interest) =>
        EpollControlRaw(epoll, operation, socket, ref interest) == 0 ? 0 : -Marshal.GetLastPInvokeError();

    /// <summary>The same for a descriptor the caller owns outright (an eventfd).</summary>
    public static int EpollControl(int epoll, int operation, int descriptor, ref EpollEvent interest) =>
        EpollControlRaw(epoll, operation, descriptor, ref interest) == 0 ? 0 : -Marshal.GetLastPInvokeError();

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    private static partial int IoControl(SafeHandle socket, nuint request, out int value);

    [LibraryImport("libc", EntryPoint = "getsockopt", SetLastError = true)]
    private static partial int GetOption(SafeHandle socket, int level, int name, out byte value, ref int length);

    /// <summary>
    /// Bytes the kernel still holds for the socket that the peer has not acknowledged (SIOCOUTQ, the FIN counted),
    /// or 0 once the connection can deliver nothing more: reset or closed, where the queue's count goes stale.
    /// </summary>
    public static int Undelivered(SafeHandle socket)
    {
        // The first byte of struct tcp_info is the connection's state.
        var length = 1;
        if (GetOption(socket, IpProtocolTcp, TcpInfo, out var state, ref length) != 0 || state == TcpClose)
        {
            return 0;
        }

        return IoControl(socket, OutputQueue, out var bytes) == 0 ? bytes : 0;
    }

    /// <summary>Adds one to an eventfd's counter, waking whoever waits on it.</summary>
    public static unsafe void Signal(int eventFd)
    {
        var one = 1UL;
        WriteRaw(eventFd, (byte*)&one, sizeof(ulong));
    }

    /// <summary>Resets an eventfd's counter.</summary>
    public static unsafe void Drain(int eventFd)
    {
        var value = 0UL;
        ReadRaw(eventFd, (byte*)&value, sizeof(ulong));
    }

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    private static unsafe partial nint WriteRaw(int descriptor, byte* buffer, nuint length);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    private static unsafe partial nint ReadRaw(int descriptor, byte* buffer, nuint length);

    /// <summary>Bytes sent, or -errno (EAGAIN rather than waiting, whatever the socket's blocking mode).</summary>
    public static unsafe int Send(SafeHandle socket, ReadOnlySpan<byte> data)
    {
        fixed (byte* pointer = data)
        {
            return Transfer(SysSendTo, socket, (nint)pointer, data.Length, NoSignal | DontWait);
        }
    }

    /// <summary>
    /// <see cref="Send(SafeHandle, ReadOnlySpan{byte})"/> on a descriptor its caller keeps open until the call returns
    /// (it alone closes it), so no reference is taken on a handle.
    /// </summary>
    public static unsafe int Send(int descriptor, ReadOnlySpan<byte> data)
    {
        fixed (byte* pointer = data)
        {
            return Transfer(SysSendTo, descriptor, (nint)pointer, data.Length, NoSignal | DontWait);
        }
    }

    /// <summary>
    /// Bytes sent from <paramref name="count"/> iovecs (address and length pairs, of pinned memory), or -errno
    /// (EAGAIN rather than waiting): a send for one, a sendmsg for several; on a descriptor its caller keeps open.
    /// </summary>
    public static unsafe int SendVectors(int descriptor, nint* vectors, int count)
    {
        if (count == 1)
        {
            return Transfer(SysSendTo, descriptor, vectors[0], vectors[1], NoSignal | DontWait);
        }

        var message = new MessageHeader { Vectors = (nint)vectors, VectorCount = count };
        return Transfer(SysSendMessage, descriptor, (nint)(&message), NoSignal | DontWait, 0);
    }

    /// <summary>
    /// Bytes sent from the first <see cref="MaxGather"/> blocks of <paramref name="data"/> in one sendmsg, or -errno
    /// (EAGAIN rather than waiting): one system call, and one wake-up of the reader, for a reply of several blocks.
    /// </summary>
    public static unsafe int SendGather(SafeHandle socket, in ReadOnlySequence<byte> data)
    {
        var vectors = stackalloc nint[MaxGather * 2];
        var pins = default(GatherPins);
        try
        {
            var message = new MessageHeader { Vectors = (nint)vectors, VectorCount = PinBlocks(data, pins, vectors) };
            var sent = SendMessageRaw(socket, &message, NoSignal | DontWait);
            return sent >= 0 ? (int)sent : -Marshal.GetLastPInvokeError();
        }
        finally
        {
            // An unused handle is a default one, whose Dispose does nothing.
            foreach (ref var pin in pins[..])
            {
                pin.Dispose();
            }
        }
    }

    /// <summary>
    /// Pins the first non-empty blocks of <paramref name="data"/>, as many as <paramref name="pins"/> holds, and
    /// writes an iovec (address, length) for each into <paramref name="vectors"/>; returns how many.
    /// </summary>
    public static unsafe int PinBlocks(in ReadOnlySequence<byte> data, Span<MemoryHandle> pins, nint* vectors)
    {
        var count = 0;
        foreach (var segment in data)
        {
            if (segment.IsEmpty)
            {
                continue;
            }

            pins[count] = segment.Pin();
            vectors[count * 2] = (nint)pins[count].Pointer;
            vectors[(count * 2) + 1] = segment.Length;
            if (++count == pins.Length)
            {
                break;
            }
        }

        return count;
    }

    /// <summary>Bytes received (0: the peer closed), or -errno (EAGAIN rather than waiting, whatever the socket's blocking mode).</summary>
    public static unsafe int Receive(SafeHandle socket, Span<byte> buffer)
    {
        fixed (byte* pointer = buffer)
        {
            return Transfer(SysReceiveFrom, socket, (nint)pointer, buffer.Length, DontWait);
        }
    }

    /// <summary>
    /// <see cref="Receive(SafeHandle, Span{byte})"/> on a descriptor its caller keeps open until the call returns
    /// (it alone closes it), so no reference is taken on a handle.
    /// </summary>
    public static unsafe int Receive(int descriptor, Span<byte> buffer)
    {
        fixed (byte* pointer = buffer)
        {
            return Transfer(SysReceiveFrom, descriptor, (nint)pointer, buffer.Length, DontWait);
        }
    }

    /// <summary>
    /// A connection from a non-blocking listening socket's backlog, its descriptor non-blocking (as the runtime's
    /// accept makes it on such a listener) and closed on exec, and the peer's address written to
    /// <paramref name="peer"/>; or -errno (EAGAIN: the backlog is empty).
    /// </summary>
    public static unsafe int Accept(SafeHandle listener, Span<byte> peer)
    {
        var length = peer.Length;
        fixed (byte* address = peer)
        {
            var descriptor = AcceptRaw(listener, address, ref length, SocketCloseOnExec | SocketNonBlocking);
            return descriptor >= 0 ? descriptor : -Marshal.GetLastPInvokeError();
        }
    }

    /// <summary>The socket's own address, written to <paramref name="address"/>; 0 or -errno.</summary>
    public static unsafe int SocketName(SafeHandle socket, Span<byte> address)
    {
        var length = address.Length;
        fixed (byte* pointer = address)
        {
            return SocketNameRaw(socket, pointer, ref length) == 0 ? 0 : -Marshal.GetLastPInvokeError();
        }
    }

    /// <summary>Sends each write at once (TCP_NODELAY); 0 or -errno.</summary>
    public static int NoDelay(SafeHandle socket) => SetOption(socket, IpProtocolTcp, TcpNoDelay, BitConverter.GetBytes(1));

    /// <summary>setsockopt; 0 or -errno.</summary>
    public static unsafe int SetOption(SafeHandle socket, int level, int name, ReadOnlySpan<byte> value)
    {
        fixed (byte* pointer = value)
        {
            return SetOptionRaw(socket, level, name, pointer, value.Length) == 0 ? 0 : -Marshal.GetLastPInvokeError();
        }
    }

    // sendto or recvfrom with no address, or sendmsg: the bytes moved, or -errno.
    // errno is read only on failure, right after the call, as a stub that sets the last error reads it, and before
    // the handle's release, which may close the descriptor.
    private static int Transfer(long call, SafeHandle socket, nint second, nint third, nint fourth)
    {
        var added = false;
        try
        {
            socket.DangerousAddRef(ref added);
            return Transfer(call, socket.DangerousGetHandle(), second, third, fourth);
        }
        finally
        {
            if (added)
            {
                socket.DangerousRelease();
            }
        }
    }

    private static int Transfer(long call, nint descriptor, nint second, nint third, nint fourth)
    {
        var result = Syscall(call, descriptor, second, third, fourth, 0, 0);
        return result >= 0 ? (int)result : -Marshal.GetLastSystemError();
    }
}
