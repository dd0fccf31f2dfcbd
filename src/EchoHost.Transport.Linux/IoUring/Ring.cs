using System.Runtime.InteropServices;
using EchoHost.Shared;

namespace EchoHost.Transport.Linux;

/// <summary>
/// One io_uring, through raw system calls (no binding is maintained for .NET, and the transport needs a dozen
/// fields of four structures): the submission and completion queues mapped into the process, an SQE handed out
/// per operation and submitted with the next <see cref="Enter"/>. Used by one thread only, the one that made it
/// (<c>IORING_SETUP_SINGLE_ISSUER</c>), so nothing here takes a lock or an atomic operation.
/// </summary>
internal sealed unsafe partial class Ring : IDisposable
{
    public const byte OpPollAdd = 6;
    public const byte OpSendMsg = 9;
    public const byte OpAsyncCancel = 14;
    public const byte OpSend = 26;
    public const byte OpRecv = 27;

    public const byte SqeBufferSelect = 1 << 5;
    public const ushort RecvPollFirst = 1;
    public const ushort RecvMultishot = 2;
    public const uint PollAddMulti = 1;

    public const uint CqeBuffer = 1;
    public const uint CqeMore = 2;
    public const uint CqeSocketNonEmpty = 4;
    public const int CqeBufferShift = 16;

    public const int TryAgain = 11;
    public const int InvalidArgument = 22;
    public const int NoBuffers = 105;
    public const int Canceled = 125;
    public const int TimedOut = 62;
    public const int Busy = 16;

    private const uint SetupCqSize = 1 << 3;
    private const uint SetupSubmitAll = 1 << 7;
    private const uint SetupCoopTaskRun = 1 << 8;
    private const uint SetupSingleIssuer = 1 << 12;
    private const uint SetupDeferTaskRun = 1 << 13;
    private const uint FeatureSingleMmap = 1;
    private const uint EnterGetEvents = 1;
    private const uint EnterExtArg = 8;
    private const long OffsetSqRing = 0;
    private const long OffsetCqRing = 0x8000000;
    private const long OffsetSqes = 0x10000000;
    private const int ProtRead = 1;
    private const int ProtWrite = 2;
    private const int MapShared = 1;
    private const int MapPopulate = 0x8000;
    private const long SysSetup = 425;
    private const long SysEnter = 426;
    private const long SysRegister = 427;
    private const int Interrupted = 4;

    private readonly int _fd;
    private readonly byte* _sqRing;
    private readonly nuint _sqRingSize;
    private readonly byte* _cqRing;
    private readonly nuint _cqRingSize;
    private readonly Sqe* _sqes;
    private readonly nuint _sqesSize;
    private readonly uint* _sqHead;
    private readonly uint* _sqTail;
    private readonly uint _sqMask;
    private readonly uint _sqEntries;
    private readonly uint* _cqHead;
    private readonly uint* _cqTail;
    private readonly uint _cqMask;
    private readonly Cqe* _cqes;
    private uint _sqLocalTail;
    private uint _toSubmit;

    private Ring(int fd, in Params p)
    {
        _fd = fd;
        _sqRingSize = p.SqOff.Array + p.SqEntries * sizeof(uint);
        _cqRingSize = p.CqOff.Cqes + p.CqEntries * (uint)sizeof(Cqe);
        if ((p.Features & FeatureSingleMmap) != 0)
        {
            _sqRingSize = _cqRingSize = Math.Max(_sqRingSize, _cqRingSize);
        }

        _sqRing = Map(_sqRingSize, fd, OffsetSqRing);
        _cqRing = (p.Features & FeatureSingleMmap) != 0 ? _sqRing : Map(_cqRingSize, fd, OffsetCqRing);
        _sqesSize = p.SqEntries * (nuint)sizeof(Sqe);
        _sqes = (Sqe*)Map(_sqesSize, fd, OffsetSqes);
        _sqHead = (uint*)(_sqRing + p.SqOff.Head);
        _sqTail = (uint*)(_sqRing + p.SqOff.Tail);
        _sqMask = *(uint*)(_sqRing + p.SqOff.RingMask);
        _sqEntries = p.SqEntries;
        _cqHead = (uint*)(_cqRing + p.CqOff.Head);
        _cqTail = (uint*)(_cqRing + p.CqOff.Tail);
        _cqMask = *(uint*)(_cqRing + p.CqOff.RingMask);
        _cqes = (Cqe*)(_cqRing + p.CqOff.Cqes);
        _sqLocalTail = *_sqTail;

        // Slot i of the submission array always names SQE i: SQEs are handed out in ring order.
        var array = (uint*)(_sqRing + p.SqOff.Array);
        for (uint i = 0; i < p.SqEntries; i++)
        {
            array[i] = i;
        }
    }

    /// <summary>
    /// On the thread that will use it, the only one the kernel then lets submit or register:
    /// a ring with <paramref name="entries"/> submission slots and four times as many completion slots, or the
    /// -errno io_uring_setup gave: -EPERM where seccomp or <c>io_uring_disabled</c> refuses io_uring, -EINVAL where
    /// the kernel predates the flags (6.1), -ENOSYS where it has no io_uring.
    /// </summary>
    public static int TryCreate(uint entries, out Ring? ring)
    {
        ring = null;
        var p = new Params
        {
            Flags = SetupSingleIssuer | SetupDeferTaskRun | SetupCqSize | SetupSubmitAll,
            CqEntries = entries * 4,
        };
        var fd = (int)Syscall(SysSetup, (nint)entries, (nint)(&p), 0, 0, 0, 0);
        if (fd < 0)
        {
            return -Marshal.GetLastPInvokeError();
        }

        try
        {
            ring = new Ring(fd, p);
            return 0;
        }
        catch (IOException)
        {
            LinuxCalls.Close(fd);
            throw;
        }
    }

    /// <summary>The next free SQE, zeroed, submitting the queued ones first when the queue is full.</summary>
    public Sqe* NextSqe()
    {
        if (_sqLocalTail - Volatile.Read(ref *_sqHead) >= _sqEntries)
        {
            Enter(0, 0);
        }

        var sqe = &_sqes[_sqLocalTail & _sqMask];
        *sqe = default;
        _sqLocalTail++;
        _toSubmit++;
        Volatile.Write(ref *_sqTail, _sqLocalTail);
        return sqe;
    }

    /// <summary>
    /// Submits what is queued and, with <paramref name="waitFor"/> above 0, waits for that many completions, at most
    /// <paramref name="timeoutMilliseconds"/> when not negative. 0, or -errno (EINTR and ETIME are not errors here).
    /// </summary>
    public int Enter(uint waitFor, int timeoutMilliseconds = -1)
    {
        var flags = EnterGetEvents;
        var argument = default(GetEventsArg);
        var timeout = default(Timespec);
        if (waitFor > 0 && timeoutMilliseconds >= 0)
        {
            timeout.Seconds = timeoutMilliseconds / 1000;
            timeout.Nanoseconds = timeoutMilliseconds % 1000 * 1_000_000L;
            argument.Timeout = (ulong)(nint)(&timeout);
            flags |= EnterExtArg;
        }

        var extended = (flags & EnterExtArg) != 0;
        var submitted = Syscall(
            SysEnter, _fd, (nint)_toSubmit, (nint)waitFor, (nint)flags, extended ? (nint)(&argument) : 0, extended ? sizeof(GetEventsArg) : 0);
        if (submitted >= 0)
        {
            _toSubmit -= (uint)submitted;
            return 0;
        }

        var error = Marshal.GetLastPInvokeError();
        return error is Interrupted or TimedOut ? 0 : -error;
    }

    /// <summary>The completions posted since the last call, in order; <see cref="Consume"/> releases their slots.</summary>
    public ReadOnlySpan<Cqe> Completions(out uint count)
    {
        var head = *_cqHead;
        var tail = Volatile.Read(ref *_cqTail);
        count = tail - head;
        var start = head & _cqMask;
        var contiguous = Math.Min(count, _cqMask + 1 - start);
        return new ReadOnlySpan<Cqe>(&_cqes[start], (int)contiguous);
    }

    public void Consume(uint count) => Volatile.Write(ref *_cqHead, *_cqHead + count);

    /// <summary>io_uring_register; 0, or -errno.</summary>
    public int Register(uint opcode, void* argument, uint count) =>
        Syscall(SysRegister, _fd, (nint)opcode, (nint)argument, (nint)count, 0, 0) < 0 ? -Marshal.GetLastPInvokeError() : 0;

    public void Dispose()
    {
        _ = Unmap(_sqes, _sqesSize);
        if (_cqRing != _sqRing)
        {
            _ = Unmap(_cqRing, _cqRingSize);
        }

        _ = Unmap(_sqRing, _sqRingSize);
        LinuxCalls.Close(_fd);
    }

    private static byte* Map(nuint length, int fd, long offset)
    {
        var address = MapRaw(null, length, ProtRead | ProtWrite, MapShared | MapPopulate, fd, offset);
        if (address == (void*)-1)
        {
            throw new IOException($"mmap of the io_uring's queues failed (errno {Marshal.GetLastPInvokeError()}).");
        }

        return (byte*)address;
    }

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long Syscall(long number, nint a, nint b, nint c, nint d, nint e, nint f);

    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    private static partial void* MapRaw(void* address, nuint length, int protection, int flags, int fd, long offset);

    [LibraryImport("libc", EntryPoint = "munmap")]
    private static partial int Unmap(void* address, nuint length);

    [StructLayout(LayoutKind.Sequential)]
    public struct Sqe
    {
        public byte Opcode;
        public byte Flags;
        public ushort IoPriority;
        public int Fd;
        public ulong Offset;
        public ulong Address;
        public uint Length;
        public uint OpFlags;
        public ulong UserData;
        public ushort BufferGroup;
        public ushort Personality;

        // splice_fd_in, file_index and optlen share these bytes; for a multishot receive, the bytes it takes in all.
        public uint ReceiveLimit;
        public ulong Address3;
        public ulong Padding;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct Cqe
    {
        public ulong UserData;
        public int Result;
        public uint Flags;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct SqRingOffsets
    {
        public uint Head;
        public uint Tail;
        public uint RingMask;
        public uint RingEntries;
        public uint Flags;
        public uint Dropped;
        public uint Array;
        public uint Reserved1;
        public ulong UserAddress;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct CqRingOffsets
    {
        public uint Head;
        public uint Tail;
        public uint RingMask;
        public uint RingEntries;
        public uint Overflow;
        public uint Cqes;
        public uint Flags;
        public uint Reserved1;
        public ulong UserAddress;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Params
    {
        public uint SqEntries;
        public uint CqEntries;
        public uint Flags;
        public uint SqThreadCpu;
        public uint SqThreadIdle;
        public uint Features;
        public uint WqFd;
        public uint Reserved0;
        public uint Reserved1;
        public uint Reserved2;
        public SqRingOffsets SqOff;
        public CqRingOffsets CqOff;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct GetEventsArg
    {
        public ulong SignalMask;
        public uint SignalMaskSize;
        public uint MinWaitMicroseconds;
        public ulong Timeout;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }
}
