namespace EchoHost.Client.Bench;

/// <summary>
/// The bytes of message number <c>n</c>: letters that shift with <c>n</c>, ending in LF so that a line-framing
/// server sees one line. A reply to the wrong message, a lost or repeated byte, shows as a mismatch.
/// </summary>
internal static class MessagePattern
{
    public static void Fill(Span<byte> message, long sequence)
    {
        var start = (int)(sequence % 26);
        for (var i = 0; i < message.Length - 1; i++)
        {
            message[i] = (byte)('a' + ((start + i) % 26));
        }

        message[^1] = (byte)'\n';
    }

    /// <summary>The 26 distinct messages of a size, indexed by sequence % 26, for senders that copy rather than fill.</summary>
    public static byte[][] All(int size) => Enumerable.Range(0, 26).Select(residue =>
    {
        var message = new byte[size];
        Fill(message, residue);
        return message;
    }).ToArray();

    public static bool Matches(ReadOnlySpan<byte> received, long sequence)
    {
        var start = (int)(sequence % 26);
        for (var i = 0; i < received.Length - 1; i++)
        {
            if (received[i] != (byte)('a' + ((start + i) % 26)))
            {
                return false;
            }
        }

        return received[^1] == (byte)'\n';
    }
}
