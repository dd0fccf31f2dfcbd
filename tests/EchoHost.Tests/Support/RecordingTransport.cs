using System.Buffers;
using System.Net;
using EchoHost.Connections.Protocols;

namespace EchoHost.Tests.Support;

/// <summary>A transport that records what the protocol wrote, and whether it asked to close.</summary>
internal sealed class RecordingTransport : IProtocolTransport
{
    private readonly ArrayBufferWriter<byte> _written = new();

    public EndPoint? RemoteEndPoint => null;

    public byte[] Written => _written.WrittenSpan.ToArray();

    public bool Closed { get; private set; }

    public int ClosedAfterBytes { get; private set; } = -1;

    public void Write(ReadOnlySpan<byte> data) => _written.Write(data);

    public void Write(in ReadOnlySequence<byte> data)
    {
        foreach (var segment in data)
        {
            _written.Write(segment.Span);
        }
    }

    public void Close()
    {
        Closed = true;
        ClosedAfterBytes = _written.WrittenCount;
    }
}
