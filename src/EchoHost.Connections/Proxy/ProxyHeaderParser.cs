using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace EchoHost.Connections.Proxy;

/// <summary>
/// Reads the PROXY protocol header, version 1 (text) or 2 (binary), from the start of a connection's input, as
/// HAProxy's specification defines it. The version is told by the first bytes, never guessed from a plain
/// stream: anything that is not the start of a header is invalid as soon as it differs.
/// </summary>
public static class ProxyHeaderParser
{
    /// <summary>The longest v1 header, <c>PROXY TCP6</c> with two full IPv6 addresses and ports, CRLF included.</summary>
    public const int MaxV1Length = 107;

    private const int V2FixedLength = 16;
    private const int V2Inet4Length = 12;
    private const int V2Inet6Length = 36;

    private static ReadOnlySpan<byte> V1Prefix => "PROXY "u8;

    private static ReadOnlySpan<byte> V2Signature => [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A];

    /// <param name="buffer">The connection's input so far.</param>
    /// <param name="header">The header, when <see cref="ProxyHeaderStatus.Complete"/>.</param>
    /// <param name="consumed">Where the stream after the header starts, when complete.</param>
    /// <param name="problem">What is wrong, in words, when <see cref="ProxyHeaderStatus.Invalid"/>.</param>
    public static ProxyHeaderStatus TryParse(
        in ReadOnlySequence<byte> buffer, out ProxyHeader header, out SequencePosition consumed, out string? problem)
    {
        header = default;
        consumed = buffer.Start;
        problem = null;
        Span<byte> start = stackalloc byte[V2FixedLength];
        var available = (int)Math.Min(buffer.Length, start.Length);
        buffer.Slice(0, available).CopyTo(start);
        start = start[..available];
        if (available == 0)
        {
            return ProxyHeaderStatus.Incomplete;
        }

        if (StartsLike(start, V2Signature))
        {
            return start.Length < V2FixedLength ? ProxyHeaderStatus.Incomplete : ParseV2(buffer, out header, out consumed, out problem);
        }

        if (StartsLike(start, V1Prefix))
        {
            return start.Length < V1Prefix.Length ? ProxyHeaderStatus.Incomplete : ParseV1(buffer, out header, out consumed, out problem);
        }

        problem = "it did not start with a PROXY protocol header";
        return ProxyHeaderStatus.Invalid;
    }

    // True when what arrived so far agrees with the start of the expected bytes.
    private static bool StartsLike(ReadOnlySpan<byte> arrived, ReadOnlySpan<byte> expected) =>
        (arrived.Length <= expected.Length ? expected.StartsWith(arrived) : arrived.StartsWith(expected));

    private static ProxyHeaderStatus ParseV1(
        in ReadOnlySequence<byte> buffer, out ProxyHeader header, out SequencePosition consumed, out string? problem)
    {
        header = default;
        consumed = buffer.Start;
        problem = null;
        Span<byte> line = stackalloc byte[MaxV1Length];
        var available = (int)Math.Min(buffer.Length, MaxV1Length);
        buffer.Slice(0, available).CopyTo(line);
        line = line[..available];

        var lf = line.IndexOf((byte)'\n');
        if (lf < 0)
        {
            if (available < MaxV1Length)
            {
                return ProxyHeaderStatus.Incomplete;
            }

            problem = $"its PROXY v1 header had no CRLF within {MaxV1Length} bytes";
            return ProxyHeaderStatus.Invalid;
        }

        if (lf == 0 || line[lf - 1] != '\r')
        {
            problem = "its PROXY v1 header ended with LF instead of CRLF";
            return ProxyHeaderStatus.Invalid;
        }

        var text = Encoding.ASCII.GetString(line[V1Prefix.Length..(lf - 1)]);
        var fields = text.Split(' ');
        switch (fields)
        {
            case ["UNKNOWN", ..]:
                header = new ProxyHeader(1, null, null);
                break;
            case ["TCP4" or "TCP6", var source, var destination, var sourcePort, var destinationPort]:
                var family = fields[0] == "TCP4" ? AddressFamily.InterNetwork : AddressFamily.InterNetworkV6;
                if (!TryEndPoint(source, sourcePort, family, out var from) || !TryEndPoint(destination, destinationPort, family, out var to))
                {
                    problem = $"its PROXY v1 header has an invalid {fields[0]} address or port: '{text}'";
                    return ProxyHeaderStatus.Invalid;
                }

                header = new ProxyHeader(1, from, to);
                break;
            default:
                problem = $"its PROXY v1 header is not 'TCP4', 'TCP6' or 'UNKNOWN' with addresses and ports: '{text}'";
                return ProxyHeaderStatus.Invalid;
        }

        consumed = buffer.GetPosition(lf + 1);
        return ProxyHeaderStatus.Complete;
    }

    private static bool TryEndPoint(string address, string port, AddressFamily family, out IPEndPoint? endPoint)
    {
        endPoint = null;
        var looksRight = family == AddressFamily.InterNetwork ? address.Count(c => c == '.') == 3 : address.Contains(':', StringComparison.Ordinal);
        if (!looksRight || !IPAddress.TryParse(address, out var ip) || ip.AddressFamily != family)
        {
            return false;
        }

        if (port.Length is 0 or > 5 || !port.All(char.IsAsciiDigit) || (port.Length > 1 && port[0] == '0'))
        {
            return false;
        }

        var number = int.Parse(port, System.Globalization.CultureInfo.InvariantCulture);
        if (number > IPEndPoint.MaxPort)
        {
            return false;
        }

        endPoint = new IPEndPoint(ip, number);
        return true;
    }

    private static ProxyHeaderStatus ParseV2(
        in ReadOnlySequence<byte> buffer, out ProxyHeader header, out SequencePosition consumed, out string? problem)
    {
        header = default;
        consumed = buffer.Start;
        problem = null;
        Span<byte> fixedPart = stackalloc byte[V2FixedLength];
        buffer.Slice(0, V2FixedLength).CopyTo(fixedPart);

        var version = fixedPart[12] >> 4;
        var command = fixedPart[12] & 0x0F;
        var family = fixedPart[13];
        var length = BinaryPrimitives.ReadUInt16BigEndian(fixedPart[14..]);
        if (version != 2)
        {
            problem = $"its PROXY v2 header has version {version}";
            return ProxyHeaderStatus.Invalid;
        }

        if (command > 1)
        {
            problem = $"its PROXY v2 header has command {command}, neither LOCAL (0) nor PROXY (1)";
            return ProxyHeaderStatus.Invalid;
        }

        var addressLength = family switch
        {
            0x11 => V2Inet4Length,
            0x21 => V2Inet6Length,
            _ => -1,
        };
        if (command == 1 && addressLength < 0)
        {
            problem = $"its PROXY v2 header has family and transport 0x{family:X2}; only TCP over IPv4 (0x11) or IPv6 (0x21) is accepted";
            return ProxyHeaderStatus.Invalid;
        }

        if (command == 1 && length < addressLength)
        {
            problem = $"its PROXY v2 header is {length} bytes long, too short for its addresses ({addressLength})";
            return ProxyHeaderStatus.Invalid;
        }

        if (buffer.Length < V2FixedLength + length)
        {
            return ProxyHeaderStatus.Incomplete;
        }

        consumed = buffer.GetPosition(V2FixedLength + length);
        if (command == 0)
        {
            header = new ProxyHeader(2, null, null);
            return ProxyHeaderStatus.Complete;
        }

        // The address block comes first; any TLVs after it are skipped with the rest of the header.
        Span<byte> addresses = stackalloc byte[V2Inet6Length];
        addresses = addresses[..addressLength];
        buffer.Slice(V2FixedLength, addressLength).CopyTo(addresses);
        var size = addressLength == V2Inet4Length ? 4 : 16;
        var source = new IPAddress(addresses[..size]);
        var destination = new IPAddress(addresses[size..(2 * size)]);
        var sourcePort = BinaryPrimitives.ReadUInt16BigEndian(addresses[(2 * size)..]);
        var destinationPort = BinaryPrimitives.ReadUInt16BigEndian(addresses[((2 * size) + 2)..]);
        header = new ProxyHeader(2, new IPEndPoint(source, sourcePort), new IPEndPoint(destination, destinationPort));
        return ProxyHeaderStatus.Complete;
    }
}
