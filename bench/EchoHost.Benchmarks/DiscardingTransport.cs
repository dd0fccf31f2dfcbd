using System.Buffers;
using System.Net;
using EchoHost.Connections.Protocols;

namespace EchoHost.Benchmarks;

/// <summary>A transport that counts what it is given and keeps nothing, so only the protocol is measured.</summary>
internal sealed class DiscardingTransport : IProtocolTransport
{
    public long Bytes { get; private set; }

    public EndPoint? RemoteEndPoint => null;

    public void Write(ReadOnlySpan<byte> data) => Bytes += data.Length;

    public void Write(in ReadOnlySequence<byte> data) => Bytes += data.Length;

    public void Close()
    {
    }
}
