using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Text;
using CsCheck;
using EchoHost.Connections.Proxy;
using EchoHost.Tests.Support;

namespace EchoHost.Tests.Connections;

public sealed class ProxyHeaderParserTests
{
    private static readonly byte[] V2Signature = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A];

    public static TheoryData<string, string, string> V1Headers => new()
    {
        { "PROXY TCP4 203.0.113.7 192.0.2.1 51234 8888\r\n", "203.0.113.7:51234", "192.0.2.1:8888" },
        { "PROXY TCP6 2001:db8::7 2001:db8::1 65535 0\r\n", "[2001:db8::7]:65535", "[2001:db8::1]:0" },
        { "PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n", "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535", "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535" },
    };

    [Theory]
    [MemberData(nameof(V1Headers))]
    public void Reads_a_v1_header_cut_at_every_point_and_leaves_the_stream_after_it(string text, string source, string destination)
    {
        var header = Encoding.ASCII.GetBytes(text);
        var stream = Encoding.ASCII.GetBytes("hello\n");
        var whole = header.Concat(stream).ToArray();

        for (var cut = 0; cut <= whole.Length; cut++)
        {
            var first = whole[..cut];
            if (cut < header.Length)
            {
                Assert.Equal(ProxyHeaderStatus.Incomplete, Parse(first, out _, out _, out _));
            }

            var buffer = Sequences.Of(first, whole[cut..]);
            Assert.Equal(ProxyHeaderStatus.Complete, Parse(buffer, out var parsed, out var consumed, out _));
            Assert.Equal(source, parsed.Source!.ToString());
            Assert.Equal(destination, parsed.Destination!.ToString());
            Assert.Equal("hello\n", Encoding.ASCII.GetString(buffer.Slice(consumed).ToArray()));
        }
    }

    [Fact]
    public void Reads_v1_unknown_without_addresses()
    {
        var buffer = Sequences.Of(Encoding.ASCII.GetBytes("PROXY UNKNOWN ffff::1 whatever\r\nx"));
        Assert.Equal(ProxyHeaderStatus.Complete, Parse(buffer, out var header, out var consumed, out _));
        Assert.Null(header.Source);
        Assert.Equal(1, header.Version);
        Assert.Equal("x", Encoding.ASCII.GetString(buffer.Slice(consumed).ToArray()));
    }

    [Theory]
    [InlineData("GET / HTTP/1.1\r\n")]
    [InlineData("hello\n")]
    [InlineData("PROXY TCP4 203.0.113.7 192.0.2.1 51234 8888\n")]
    [InlineData("PROXY TCP4 203.0.113.7 192.0.2.1 51234\r\n")]
    [InlineData("PROXY TCP4 2001:db8::7 192.0.2.1 51234 8888\r\n")]
    [InlineData("PROXY TCP6 203.0.113.7 2001:db8::1 51234 8888\r\n")]
    [InlineData("PROXY TCP4 203.0.113.7 192.0.2.1 65536 8888\r\n")]
    [InlineData("PROXY TCP4 203.0.113.7 192.0.2.1 0123 8888\r\n")]
    [InlineData("PROXY TCP4 203.0.113.7 192.0.2.1 -1 8888\r\n")]
    [InlineData("PROXY TCP4 203.0.113.7  192.0.2.1 1 8888\r\n")]
    [InlineData("PROXY TCP4 1 192.0.2.1 1 8888\r\n")]
    [InlineData("PROXY UDP4 203.0.113.7 192.0.2.1 1 2\r\n")]
    [InlineData("proxy TCP4 203.0.113.7 192.0.2.1 1 2\r\n")]
    public void Rejects_malformed_v1_headers(string text)
    {
        Assert.Equal(ProxyHeaderStatus.Invalid, Parse(Encoding.ASCII.GetBytes(text), out _, out _, out var problem));
        Assert.False(string.IsNullOrEmpty(problem));
    }

    [Fact]
    public void Rejects_a_v1_header_with_no_crlf_within_107_bytes()
    {
        var text = "PROXY UNKNOWN " + new string('x', 100);
        Assert.Equal(ProxyHeaderStatus.Invalid, Parse(Encoding.ASCII.GetBytes(text), out _, out _, out var problem));
        Assert.Contains("107", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Reads_a_v2_ipv4_header_with_tlvs_cut_at_every_point()
    {
        var header = V2(0x21, 0x11, [203, 0, 113, 7], [192, 0, 2, 1], 51234, 8888, tlvs: [0x04, 0x00, 0x03, 1, 2, 3]);
        var whole = header.Concat("hi\n"u8.ToArray()).ToArray();

        for (var cut = 0; cut <= whole.Length; cut++)
        {
            if (cut < header.Length)
            {
                Assert.Equal(ProxyHeaderStatus.Incomplete, Parse(whole[..cut], out _, out _, out _));
            }

            var buffer = Sequences.Of(whole[..cut], whole[cut..]);
            Assert.Equal(ProxyHeaderStatus.Complete, Parse(buffer, out var parsed, out var consumed, out _));
            Assert.Equal("203.0.113.7:51234", parsed.Source!.ToString());
            Assert.Equal("192.0.2.1:8888", parsed.Destination!.ToString());
            Assert.Equal("hi\n", Encoding.ASCII.GetString(buffer.Slice(consumed).ToArray()));
        }
    }

    [Fact]
    public void Reads_a_v2_ipv6_header()
    {
        var source = IPAddress.Parse("2001:db8::7").GetAddressBytes();
        var destination = IPAddress.Parse("2001:db8::1").GetAddressBytes();

        Assert.Equal(ProxyHeaderStatus.Complete, Parse(V2(0x21, 0x21, source, destination, 1, 2), out var parsed, out _, out _));
        Assert.Equal("[2001:db8::7]:1", parsed.Source!.ToString());
    }

    [Fact]
    public void A_v2_local_command_keeps_the_socket_address_whatever_its_family()
    {
        var local = V2(0x20, 0x00, [], [], 0, 0);

        Assert.Equal(ProxyHeaderStatus.Complete, Parse(local, out var parsed, out var consumed, out _));
        Assert.Null(parsed.Source);
        Assert.Equal(2, parsed.Version);
        Assert.Equal(16, Sequences.Of(local).Slice(0, consumed).Length);
    }

    [Theory]
    [InlineData(0x11, 0x11, "version 1")]
    [InlineData(0x22, 0x11, "command 2")]
    [InlineData(0x21, 0x12, "0x12")]
    [InlineData(0x21, 0x31, "0x31")]
    [InlineData(0x21, 0x00, "0x00")]
    public void Rejects_a_v2_header_with_a_wrong_version_command_or_family(byte versionCommand, byte family, string named)
    {
        var header = V2(versionCommand, family, [1, 2, 3, 4], [5, 6, 7, 8], 1, 2);

        Assert.Equal(ProxyHeaderStatus.Invalid, Parse(header, out _, out _, out var problem));
        Assert.Contains(named, problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Rejects_a_v2_header_too_short_for_its_addresses()
    {
        var header = V2(0x21, 0x21, [1, 2, 3, 4], [5, 6, 7, 8], 1, 2);

        Assert.Equal(ProxyHeaderStatus.Invalid, Parse(header, out _, out _, out var problem));
        Assert.Contains("too short", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Random_bytes_are_never_taken_for_a_header_unless_they_start_like_one()
    {
        Gen.Byte.Array[0, 200].Sample(bytes =>
        {
            var status = Parse(bytes, out _, out _, out var problem);
            var startsLikeHeader = bytes.Length == 0 || bytes[0] == 'P' || bytes[0] == 0x0D;
            return status switch
            {
                ProxyHeaderStatus.Invalid => problem is not null,
                _ => startsLikeHeader,
            };
        });
    }

    [Fact]
    public void Any_split_of_a_valid_header_and_stream_gives_the_same_result()
    {
        var header = Encoding.ASCII.GetBytes("PROXY TCP4 10.0.0.1 10.0.0.2 1000 2000\r\n");
        Gen.Int[0, header.Length + 4].Array[0, 6].Sample(cuts =>
        {
            var whole = header.Concat("data"u8.ToArray()).ToArray();
            var points = cuts.Order().Distinct().ToArray();
            var pieces = points.Prepend(0).Zip(points.Append(whole.Length), (a, b) => whole[a..Math.Max(a, b)]).ToArray();
            var buffer = Sequences.Of(pieces);
            return Parse(buffer, out var parsed, out var consumed, out _) == ProxyHeaderStatus.Complete
                && parsed.Source!.ToString() == "10.0.0.1:1000"
                && Encoding.ASCII.GetString(buffer.Slice(consumed).ToArray()) == "data";
        });
    }

    internal static byte[] V2(byte versionCommand, byte family, byte[] source, byte[] destination, ushort sourcePort, ushort destinationPort, byte[]? tlvs = null)
    {
        var addresses = source.Length == 0 ? [] : source.Concat(destination).Concat(Port(sourcePort)).Concat(Port(destinationPort)).ToArray();
        var body = addresses.Concat(tlvs ?? []).ToArray();
        var length = new byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(length, (ushort)body.Length);
        return V2Signature.Concat(new[] { versionCommand, family }).Concat(length).Concat(body).ToArray();
    }

    private static byte[] Port(ushort port)
    {
        var bytes = new byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(bytes, port);
        return bytes;
    }

    private static ProxyHeaderStatus Parse(byte[] bytes, out ProxyHeader header, out SequencePosition consumed, out string? problem) =>
        Parse(Sequences.Of(bytes), out header, out consumed, out problem);

    private static ProxyHeaderStatus Parse(ReadOnlySequence<byte> buffer, out ProxyHeader header, out SequencePosition consumed, out string? problem) =>
        ProxyHeaderParser.TryParse(buffer, out header, out consumed, out problem);
}
