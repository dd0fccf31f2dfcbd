namespace EchoHost.Client.Bench;

/// <summary>
/// Checks whole replies: the server's prefix (learned from the first reply) and then message number <c>n</c>. The
/// 26 possible replies are built once, so a check is one vectorised comparison. One per reactor thread; not
/// thread-safe.
/// </summary>
internal sealed class ReplyCheck(int messageBytes, int prefixBytes)
{
    private readonly byte[][] _expected = Enumerable.Range(0, 26).Select(_ => new byte[prefixBytes + messageBytes]).ToArray();
    private bool _prefixKnown;

    public int ReplyBytes { get; } = prefixBytes + messageBytes;

    public bool Matches(long sequence, ReadOnlySpan<byte> reply)
    {
        if (!_prefixKnown)
        {
            for (var residue = 0; residue < 26; residue++)
            {
                reply[..prefixBytes].CopyTo(_expected[residue]);
                MessagePattern.Fill(_expected[residue].AsSpan(prefixBytes), residue);
            }

            _prefixKnown = true;
        }

        return reply.SequenceEqual(_expected[sequence % 26]);
    }
}
