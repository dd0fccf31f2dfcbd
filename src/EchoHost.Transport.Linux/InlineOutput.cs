using System.Buffers;
using System.IO.Pipelines;

namespace EchoHost.Transport.Linux;

/// <summary>
/// What a protocol writes in an inline turn: one buffer per reactor, which runs one turn at a time, so no
/// connection holds a send buffer between turns. Output that outgrows it goes to the connection's output pipe
/// from then on, after what the buffer held, so the order is kept. The engine sends what it holds when the turn
/// ends: epoll at once from this buffer, io_uring from a block that stays the connection's until the send completes.
/// </summary>
internal sealed class InlineOutput(int size) : IBufferWriter<byte>
{
    private readonly byte[] _buffer = GC.AllocateUninitializedArray<byte>(size, pinned: true);
    private LinuxConnection? _connection;
    private PipeWriter? _overflow;
    private int _written;

    /// <summary>Starts a turn's output, empty, for <paramref name="connection"/>, whose output pipe takes what outgrows it.</summary>
    public IBufferWriter<byte> Begin(LinuxConnection connection)
    {
        _connection = connection;
        _overflow = null;
        _written = 0;
        return this;
    }

    /// <summary>
    /// Ends the turn's output: true with what the buffer holds, valid until the next turn begins; false when the
    /// output outgrew the buffer and all of it is in the pipe, to be flushed.
    /// </summary>
    public bool End(out ReadOnlySpan<byte> written)
    {
        var held = _overflow is null;
        written = _buffer.AsSpan(0, _written);
        _connection = null;
        _overflow = null;
        _written = 0;
        return held;
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

    private PipeWriter Overflow()
    {
        if (_overflow is null)
        {
            _overflow = _connection?.OutputWriter ?? throw new InvalidOperationException("An inline turn's output is written between its begin and end.");
            _overflow.Write(_buffer.AsSpan(0, _written));
            _written = 0;
        }

        return _overflow;
    }
}
