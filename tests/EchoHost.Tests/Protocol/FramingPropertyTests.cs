using System.Text;
using CsCheck;
using EchoHost.Echo;
using EchoHost.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace EchoHost.Tests.Protocol;

/// <summary>
/// Whatever the bytes and however TCP cuts them, the replies are those of a plain byte-by-byte model of
/// the framing rule. CsCheck generates the cases and shrinks a failure to the smallest one.
/// </summary>
public sealed class FramingPropertyTests
{
    // Few distinct bytes, LF and CR among them, so that lines, empty lines and CRs are common.
    private static readonly Gen<byte[]> Payload = Gen.OneOf((byte)'a', (byte)'\n', (byte)'\r', (byte)0, (byte)0xFF).Array[0, 300];

    private static readonly Gen<(byte[] Payload, int MaxLineBytes, int[] Cuts)> Case =
        from payload in Payload
        from maxLineBytes in Gen.Int[1, 40]
        from cuts in Gen.Int[0, payload.Length].Array[0, 8]
        select (payload, maxLineBytes, cuts);

    [Fact]
    public void Line_framing_replies_match_the_model_for_any_input_and_segmentation()
    {
        Case.Sample(c =>
        {
            var options = new EchoOptions { ReplyPrefix = "|", MaxLineBytes = c.MaxLineBytes };
            var actual = Run(options, c.Payload, c.Cuts);
            return actual.SequenceEqual(Model(c.Payload, c.MaxLineBytes, "|"u8.ToArray()));
        });
    }

    [Fact]
    public void Chunk_framing_with_an_empty_prefix_returns_exactly_the_input_for_any_segmentation()
    {
        Case.Sample(c =>
        {
            var options = new EchoOptions { ReplyPrefix = "", Framing = MessageFraming.Chunk };
            return Run(options, c.Payload, c.Cuts).SequenceEqual(c.Payload);
        });
    }

    private static byte[] Run(EchoOptions options, byte[] payload, int[] cuts)
    {
        var driver = new ProtocolDriver(new EchoProtocol(new EchoBehavior(options), null, NullLogger<EchoProtocol>.Instance)).Connect();
        var previous = 0;
        foreach (var cut in cuts.Order())
        {
            driver.Receive(payload[previous..cut]);
            previous = cut;
        }

        return driver.Receive(payload[previous..]).EndOfInput().Transport.Written;
    }

    // The rule, one byte at a time: a message ends after an LF or at MaxLineBytes bytes; whatever is left
    // at the end of input is the last message.
    private static byte[] Model(byte[] payload, int maxLineBytes, byte[] prefix)
    {
        var replies = new List<byte>();
        var line = new List<byte>();
        foreach (var b in payload)
        {
            line.Add(b);
            if (b == '\n' || line.Count == maxLineBytes)
            {
                replies.AddRange(prefix);
                replies.AddRange(line);
                line.Clear();
            }
        }

        if (line.Count > 0)
        {
            replies.AddRange(prefix);
            replies.AddRange(line);
        }

        return [.. replies];
    }
}
