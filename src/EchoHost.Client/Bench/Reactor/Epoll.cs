using System.Runtime.InteropServices;

namespace EchoHost.Client.Bench.Reactor;

/// <summary>
/// The few Linux calls the reactor makes: epoll, and send/recv straight on a socket's descriptor, with no
/// task, buffer copy or exception between the loop and the kernel. x86-64 only: there the kernel's
/// <c>struct epoll_event</c> is packed (12 bytes), which <see cref="EpollEvent"/> spells out.
/// </summary>
internal static partial class Epoll
{
    public const uint In = 0x001;
    public const uint Out = 0x004;
    public const uint Error = 0x008;
    public const uint HangUp = 0x010;

    public const int Add = 1;
    public const int Modify = 3;

    public const int WouldBlock = 11;
    public const int Interrupted = 4;
    private const int NoSignal = 0x4000;

    public static bool IsAvailable => OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture == Architecture.X64;

    [StructLayout(LayoutKind.Sequential, Pack = 4)]
    public struct EpollEvent
    {
        public uint Events;
        public ulong Data;
    }

    [LibraryImport("libc", EntryPoint = "epoll_create1", SetLastError = true)]
    public static partial int Create(int flags);

    [LibraryImport("libc", EntryPoint = "epoll_ctl", SetLastError = true)]
    public static partial int Control(int epoll, int operation, int descriptor, ref EpollEvent interest);

    [LibraryImport("libc", EntryPoint = "epoll_wait", SetLastError = true)]
    public static unsafe partial int Wait(int epoll, EpollEvent* events, int maxEvents, int timeoutMilliseconds);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int descriptor);

    [LibraryImport("libc", EntryPoint = "send", SetLastError = true)]
    private static unsafe partial nint SendRaw(int socket, byte* buffer, nuint length, int flags);

    [LibraryImport("libc", EntryPoint = "recv", SetLastError = true)]
    private static unsafe partial nint ReceiveRaw(int socket, byte* buffer, nuint length, int flags);

    /// <summary>Bytes sent, or -errno.</summary>
    public static unsafe int Send(int socket, ReadOnlySpan<byte> data)
    {
        fixed (byte* pointer = data)
        {
            var sent = SendRaw(socket, pointer, (nuint)data.Length, NoSignal);
            return sent >= 0 ? (int)sent : -Marshal.GetLastPInvokeError();
        }
    }

    /// <summary>Bytes received (0: the peer closed), or -errno.</summary>
    public static unsafe int Receive(int socket, Span<byte> buffer)
    {
        fixed (byte* pointer = buffer)
        {
            var received = ReceiveRaw(socket, pointer, (nuint)buffer.Length, 0);
            return received >= 0 ? (int)received : -Marshal.GetLastPInvokeError();
        }
    }
}
