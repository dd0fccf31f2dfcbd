using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using EchoHost.Connections;
using EchoHost.Shared;

namespace EchoHost.Transport.Linux;

/// <summary>
/// What a protocol writes in an inline turn: one buffer per reactor, which runs one turn at a time, so no
/// connection holds a send buffer between turns. Forwarded bytes of the turn's input are not copied: they stay
/// pieces of the array the reactor received them into, between the buffer's pieces, up to one sendmsg's worth.
/// Output that outgrows the buffer goes to the connection's output pipe from then on, after what the turn wrote
/// before, so the order is kept. The engine sends the pieces when the turn ends: epoll at once, from where they
/// are; io_uring later, from a block it copies the buffer's pieces into and from the ring's buffer the forwarded
/// ones are in, both held until the send completes.
/// </summary>
internal sealed unsafe class InlineOutput : IInlineOutput
{
    private readonly byte[] _buffer;
    private readonly byte[] _received;
    private readonly Piece[] _pieces = new Piece[LinuxCalls.MaxGather];
    private LinuxConnection? _connection;
    private PipeWriter? _overflow;
    private int _count;
    private int _runStart;
    private int _written;

    /// <param name="size">The buffer's size.</param>
    /// <param name="received">The pinned array the reactor receives into, whose bytes a turn forwards in place.</param>
    public InlineOutput(int size, byte[] received)
    {
        _buffer = GC.AllocateUninitializedArray<byte>(size, pinned: true);
        _received = received;
    }

    /// <summary>The bytes of the turn that ended, in its pieces.</summary>
    public int Length { get; private set; }

    /// <summary>True when the turn that ended forwarded bytes in place: some of its pieces are received bytes.</summary>
    public bool Forwarded => Length > _written;

    /// <summary>The bytes the turn that ended wrote into the buffer, the buffer's pieces, in order.</summary>
    public int Written => _written;

    /// <inheritdoc cref="Written"/>
    public ReadOnlySpan<byte> WrittenBytes => _buffer.AsSpan(0, _written);

    /// <summary>Starts a turn's output, empty, for <paramref name="connection"/>, whose output pipe takes what outgrows it.</summary>
    public IInlineOutput Begin(LinuxConnection connection)
    {
        _connection = connection;
        _overflow = null;
        _count = _runStart = _written = 0;
        Length = 0;
        return this;
    }

    /// <summary>
    /// Ends the turn's output: true with what it wrote in its pieces (<see cref="Length"/>, <see cref="CopyTo"/>,
    /// <see cref="Vectors"/>), valid until the next turn begins; false when the output outgrew the buffer and all of
    /// it is in the pipe, to be flushed.
    /// </summary>
    public bool End()
    {
        var held = _overflow is null;
        if (held)
        {
            CloseRun();
        }

        _connection = null;
        _overflow = null;
        return held;
    }

    /// <summary>How many pieces the ended turn's bytes are in.</summary>
    public int Count => _count;

    public void Forward(in ReadOnlySequence<byte> bytes)
    {
        // The turn's input is a sequence over the received array, so a slice of it starts at its offset there.
        var start = bytes.Start;
        if (start.GetObject() != _received || !bytes.IsSingleSegment)
        {
            foreach (var segment in bytes)
            {
                Write(segment.Span);
            }

            return;
        }

        var offset = start.GetInteger();
        var length = (int)bytes.Length;

        // Room for the run before it, itself, and a run after it.
        if (_overflow is null && length >= IInlineOutput.ForwardMinimum && _count + 3 <= _pieces.Length)
        {
            CloseRun();
            _pieces[_count++] = new Piece(true, offset, length);
            Length += length;
            return;
        }

        Write(_received.AsSpan(offset, length));
    }

    public void Write(ReadOnlySpan<byte> bytes)
    {
        if (_overflow is null && bytes.Length <= _buffer.Length - _written)
        {
            bytes.CopyTo(_buffer.AsSpan(_written));
            _written += bytes.Length;
            Length += bytes.Length;
            return;
        }

        Overflow().Write(bytes);
    }

    /// <summary>Copies the ended turn's bytes from <paramref name="skip"/> on into <paramref name="destination"/>, as many as fit; returns how many.</summary>
    public int CopyTo(Span<byte> destination, int skip)
    {
        var copied = 0;
        for (var i = 0; i < _count && copied < destination.Length; i++)
        {
            var piece = Bytes(_pieces[i]);
            if (skip >= piece.Length)
            {
                skip -= piece.Length;
                continue;
            }

            var length = Math.Min(piece.Length - skip, destination.Length - copied);
            piece.Slice(skip, length).CopyTo(destination[copied..]);
            copied += length;
            skip = 0;
        }

        return copied;
    }

    /// <summary>The ended turn's first piece.</summary>
    public ReadOnlySpan<byte> First => Bytes(_pieces[0]);

    /// <summary>Writes the ended turn's bytes from <paramref name="skip"/> on into <paramref name="writer"/>.</summary>
    public void WriteTo(PipeWriter writer, int skip)
    {
        while (skip < Length)
        {
            var copied = CopyTo(writer.GetSpan(), skip);
            writer.Advance(copied);
            skip += copied;
        }
    }

    /// <summary>
    /// Writes an iovec (address, length) into <paramref name="vectors"/> for each piece of the ended turn's bytes from
    /// <paramref name="skip"/> on; returns how many. The buffer's pieces point into <paramref name="written"/>, a copy
    /// of <see cref="WrittenBytes"/>, where one is given, else into the buffer itself.
    /// </summary>
    public int Vectors(int skip, nint* vectors, byte* written)
    {
        var count = 0;
        for (var i = 0; i < _count; i++)
        {
            var piece = _pieces[i];
            if (skip >= piece.Length)
            {
                skip -= piece.Length;
                continue;
            }

            vectors[count * 2] = written is not null && !piece.Received
                ? (nint)(written + piece.Offset + skip)
                : (nint)Unsafe.AsPointer(ref MemoryMarshal.GetReference(Bytes(piece)[skip..]));
            vectors[(count * 2) + 1] = piece.Length - skip;
            count++;
            skip = 0;
        }

        return count;
    }

    public void Advance(int count)
    {
        if (_overflow is { } overflow)
        {
            overflow.Advance(count);
            return;
        }

        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, _buffer.Length - _written);
        _written += count;
        Length += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        if (_overflow is null && Math.Max(sizeHint, 1) <= _buffer.Length - _written)
        {
            return _buffer.AsMemory(_written);
        }

        return Overflow().GetMemory(sizeHint);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        if (_overflow is null && Math.Max(sizeHint, 1) <= _buffer.Length - _written)
        {
            return _buffer.AsSpan(_written);
        }

        return Overflow().GetSpan(sizeHint);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ReadOnlySpan<byte> Bytes(Piece piece) => (piece.Received ? _received : _buffer).AsSpan(piece.Offset, piece.Length);

    // The bytes written into the buffer since the last piece become a piece of their own.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void CloseRun()
    {
        if (_written > _runStart)
        {
            _pieces[_count++] = new Piece(false, _runStart, _written - _runStart);
            _runStart = _written;
        }
    }

    private PipeWriter Overflow()
    {
        if (_overflow is null)
        {
            _overflow = _connection?.OutputWriter ?? throw new InvalidOperationException("An inline turn's output is written between its begin and end.");
            CloseRun();
            for (var i = 0; i < _count; i++)
            {
                _overflow.Write(Bytes(_pieces[i]));
            }

            _count = _runStart = _written = 0;
        }

        return _overflow;
    }

    private readonly record struct Piece(bool Received, int Offset, int Length);
}
