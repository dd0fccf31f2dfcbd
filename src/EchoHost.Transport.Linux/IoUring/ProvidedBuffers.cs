using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace EchoHost.Transport.Linux;

/// <summary>
/// The receive buffers a ring's receives pick from (a provided-buffer ring, group 0): the kernel takes
/// one when data arrives, the completion names it, and the reactor hands the bytes to the connection (a parked
/// runner reads them where they are, the pipe gets a copy) and gives the buffer back when that returns. So buffers
/// belong to the reactor, not to connections, and an idle connection holds none. They are one pinned array, so a
/// runner's turn can read them as a <see cref="System.Buffers.ReadOnlySequence{T}"/> without a copy.
/// </summary>
internal sealed unsafe class ProvidedBuffers : IDisposable
{
    public const ushort Group = 0;

    private const uint RegisterBufferRing = 22;
    private const int PageSize = 4096;

    private readonly Entry* _ring;
    private readonly byte[] _data;
    private readonly byte* _start;

    // The kernel holds the buffers' addresses until the ring is closed, so the array stays alive until Dispose, as
    // native memory would, even if its reactor is dropped without closing the ring.
    private GCHandle _kept;
    private readonly ushort _mask;
    private readonly int _size;
    private ushort _tail;

    private ProvidedBuffers(Entry* ring, byte[] data, ushort count, int size)
    {
        _ring = ring;
        _data = data;
        _kept = GCHandle.Alloc(data);
        _start = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(data));
        _mask = (ushort)(count - 1);
        _size = size;
        for (var i = 0; i < count; i++)
        {
            Return((ushort)i);
        }
    }

    /// <summary>
    /// <paramref name="count"/> (a power of two) buffers, the equal parts of <paramref name="data"/> (a pinned array),
    /// registered with the ring; null with the -errno the kernel gave (EINVAL before Linux 5.19).
    /// </summary>
    public static ProvidedBuffers? Register(Ring ring, byte[] data, ushort count, out int error)
    {
        var entries = (Entry*)NativeMemory.AlignedAlloc((nuint)(count * sizeof(Entry)), PageSize);
        NativeMemory.Clear(entries, (nuint)(count * sizeof(Entry)));
        var registration = new Registration { RingAddress = (ulong)entries, RingEntries = count, Group = Group };
        error = ring.Register(RegisterBufferRing, &registration, 1);
        if (error != 0)
        {
            NativeMemory.AlignedFree(entries);
            return null;
        }

        return new ProvidedBuffers(entries, data, count, data.Length / count);
    }

    public ReadOnlyMemory<byte> Data(ushort id, int length) => new(_data, id * _size, length);

    /// <summary>Hands a buffer back to the kernel; it may fill it again from the next receive on.</summary>
    public void Return(ushort id)
    {
        var entry = &_ring[_tail & _mask];
        entry->Address = (ulong)(_start + (id * _size));
        entry->Length = (uint)_size;
        entry->Id = id;

        // The ring's tail lives in the first entry's last two bytes, which entry 0 itself never uses.
        _tail++;
        Volatile.Write(ref *(ushort*)((byte*)_ring + 14), _tail);
    }

    /// <summary>Only once the ring is closed: until then the kernel may still write into the buffers.</summary>
    public void Dispose()
    {
        _kept.Free();
        NativeMemory.AlignedFree(_ring);
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Entry
    {
        public ulong Address;
        public uint Length;
        public ushort Id;
        public ushort Reserved;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Registration
    {
        public ulong RingAddress;
        public uint RingEntries;
        public ushort Group;
        public ushort Flags;
        public ulong Reserved0;
        public ulong Reserved1;
        public ulong Reserved2;
    }
}
