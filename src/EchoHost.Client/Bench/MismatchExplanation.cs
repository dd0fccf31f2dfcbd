using System.Text;

namespace EchoHost.Client.Bench;

/// <summary>
/// Why a reply did not match, in plain words, from the bytes that arrived where reply <c>n</c> was expected: a
/// prefix that <c>--prefix-bytes</c> did not announce (or announced wrongly), a message the server cut into
/// pieces because it is longer than its line limit, or plain corruption.
/// </summary>
internal static class MismatchExplanation
{
    public static string Explain(ReadOnlySpan<byte> received, long sequence, int messageBytes, int prefixBytes)
    {
        var message = new byte[messageBytes];
        MessagePattern.Fill(message, sequence);
        var start = received.IndexOf(message.AsSpan(0, Math.Min(messageBytes - 1, 16)));
        if (start >= 0 && start != prefixBytes)
        {
            var prefix = Encoding.ASCII.GetString(received[..start]).Replace("\n", "\\n", StringComparison.Ordinal);
            return start == 0
                ? $"replies carry no prefix before the message, but --prefix-bytes is {prefixBytes}: run with --prefix-bytes 0"
                : $"replies carry {start} bytes before the message ('{prefix}'), but --prefix-bytes is {prefixBytes}: run with --prefix-bytes {start}";
        }

        if (start == prefixBytes && prefixBytes > 0)
        {
            var prefix = received[..prefixBytes];
            var again = received[prefixBytes..].IndexOf(prefix);
            if (again > 0)
            {
                return $"the server cut the {messageBytes}-byte message after {again} bytes and prefixed each piece: the message is longer than its line limit (EchoHost: Echo:MaxLineBytes); use a smaller --size";
            }
        }

        var at = 0;
        var expected = message.AsSpan();
        var body = start >= 0 ? received[start..] : received[Math.Min(prefixBytes, received.Length)..];
        while (at < body.Length && at < expected.Length && body[at] == expected[at])
        {
            at++;
        }

        return $"reply {sequence} differs from message {sequence} at byte {at} of the message";
    }
}
