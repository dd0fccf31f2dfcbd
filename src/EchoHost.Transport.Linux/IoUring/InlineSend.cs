using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using EchoHost.Shared;

namespace EchoHost.Transport.Linux;

/// <summary>
/// An inline send of the io_uring engine while it is in flight: its msghdr and iovecs, which the kernel reads until
/// it completes, the pooled blocks it sends from, pinned, and the ring's buffer it holds. The reactor lends one for
/// each such send and takes it back when it completes, so a connection holds none between its sends.
/// </summary>
internal sealed unsafe class InlineSend
{
    private static readonly int HeaderWords = sizeof(LinuxCalls.MessageHeader) / sizeof(nint);

    // The msghdr, then the iovecs, in one pinned array.
    private readonly nint[] _message = GC.AllocateArray<nint>(HeaderWords + (LinuxCalls.MaxGather * 2), pinned: true);
    private readonly IMemoryOwner<byte>?[] _blocks = new IMemoryOwner<byte>?[LinuxCalls.MaxGather];
    private readonly MemoryHandle[] _pins = new MemoryHandle[LinuxCalls.MaxGather];
    private int _blockCount;

    /// <summary>The iovecs not yet sent, from <see cref="Vectors"/> on.</summary>
    public int VectorCount { get; set; }

    /// <summary>The ring's buffer the iovecs point into, given back when the send completes; -1 for none.</summary>
    public int HeldBuffer { get; set; } = -1;

    /// <summary>The iovecs: address and length pairs.</summary>
    public nint* Vectors => (nint*)Unsafe.AsPointer(ref _message[HeaderWords]);

    /// <summary>The msghdr of a send of all <see cref="VectorCount"/> iovecs.</summary>
    public LinuxCalls.MessageHeader* Header
    {
        get
        {
            var header = (LinuxCalls.MessageHeader*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_message));
            *header = new LinuxCalls.MessageHeader { Vectors = (nint)Vectors, VectorCount = VectorCount };
            return header;
        }
    }

    /// <summary>A block of at least <paramref name="size"/> bytes, pinned until <see cref="Release"/>: its address, and its length.</summary>
    public byte* Hold(MemoryPool<byte> pool, int size, out int length)
    {
        var block = pool.Rent(size);
        _pins[_blockCount] = block.Memory.Pin();
        _blocks[_blockCount++] = block;
        length = block.Memory.Length;
        return (byte*)_pins[_blockCount - 1].Pointer;
    }

    /// <summary>Moves the iovecs past <paramref name="sent"/> bytes; false once nothing is left to send.</summary>
    public bool Advance(int sent)
    {
        var vectors = Vectors;
        var done = 0;
        while (done < VectorCount && sent >= vectors[(done * 2) + 1])
        {
            sent -= (int)vectors[(done * 2) + 1];
            done++;
        }

        if (done == VectorCount)
        {
            return false;
        }

        vectors[done * 2] += sent;
        vectors[(done * 2) + 1] -= sent;
        VectorCount -= done;
        new Span<nint>(vectors + (done * 2), VectorCount * 2).CopyTo(new Span<nint>(vectors, VectorCount * 2));
        return true;
    }

    /// <summary>Gives the blocks back to their pool; the ring's buffer is the reactor's to give back.</summary>
    public void Release()
    {
        for (var i = 0; i < _blockCount; i++)
        {
            _pins[i].Dispose();
            _pins[i] = default;
            _blocks[i]!.Dispose();
            _blocks[i] = null;
        }

        _blockCount = 0;
        VectorCount = 0;
        HeldBuffer = -1;
    }
}
