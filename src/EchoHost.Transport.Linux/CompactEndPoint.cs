using System.Buffers.Binary;
using System.Net;

namespace EchoHost.Transport.Linux;

/// <summary>
/// An IP endpoint kept as a value. A connection holds its two addresses for its whole life, and an
/// <see cref="IPEndPoint"/> of an IPv6 address is three objects; this is 24 bytes inside the connection, made into an
/// <see cref="IPEndPoint"/> each time it is read. Anything but an IP endpoint is kept as none.
/// </summary>
internal readonly record struct CompactEndPoint
{
    /// <summary>The longest address it reads: a <c>struct sockaddr_in6</c>.</summary>
    public const int SocketAddressLength = 28;

    private const ushort InterNetwork = 2;
    private const ushort InterNetworkV6 = 10;
    private readonly ulong _high;
    private readonly ulong _low;
    private readonly uint _scopeId;
    private readonly ushort _port;
    private readonly byte _length;

    public CompactEndPoint(EndPoint? endPoint)
    {
        if (endPoint is not IPEndPoint ip)
        {
            return;
        }

        Span<byte> bytes = stackalloc byte[16];
        ip.Address.TryWriteBytes(bytes, out var written);
        _high = BitConverter.ToUInt64(bytes[..8]);
        _low = BitConverter.ToUInt64(bytes[8..]);
        _length = (byte)written;
        _port = (ushort)ip.Port;
        _scopeId = written == 16 ? (uint)ip.Address.ScopeId : 0;
    }

    /// <summary>From a <c>struct sockaddr_in</c> or <c>sockaddr_in6</c> as the kernel wrote it.</summary>
    public CompactEndPoint(ReadOnlySpan<byte> socketAddress)
    {
        var family = socketAddress.Length >= 2 ? BitConverter.ToUInt16(socketAddress) : 0;
        if (family == InterNetwork && socketAddress.Length >= 8)
        {
            _high = BitConverter.ToUInt32(socketAddress[4..8]);
            _length = 4;
        }
        else if (family == InterNetworkV6 && socketAddress.Length >= 28)
        {
            _high = BitConverter.ToUInt64(socketAddress[8..16]);
            _low = BitConverter.ToUInt64(socketAddress[16..24]);
            _scopeId = BitConverter.ToUInt32(socketAddress[24..28]);
            _length = 16;
        }
        else
        {
            return;
        }

        _port = BinaryPrimitives.ReadUInt16BigEndian(socketAddress[2..4]);
    }

    public IPEndPoint? ToEndPoint()
    {
        if (_length == 0)
        {
            return null;
        }

        Span<byte> bytes = stackalloc byte[16];
        BitConverter.TryWriteBytes(bytes[..8], _high);
        BitConverter.TryWriteBytes(bytes[8..], _low);
        var address = _length == 16 ? new IPAddress(bytes, _scopeId) : new IPAddress(bytes[..4]);
        return new IPEndPoint(address, _port);
    }
}
