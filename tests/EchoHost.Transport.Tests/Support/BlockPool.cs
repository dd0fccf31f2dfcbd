using System.Buffers;

namespace EchoHost.Transport.Tests.Support;

/// <summary>Fixed 16 KiB blocks, as the host's pool hands out, so a test sees the blocks a pipe holds as it would.</summary>
internal sealed class BlockPool : MemoryPool<byte>
{
    public const int BlockSize = 16 * 1024;

    public override int MaxBufferSize => BlockSize;

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minBufferSize, BlockSize);
        return new Block();
    }

    protected override void Dispose(bool disposing)
    {
    }

    private sealed class Block : IMemoryOwner<byte>
    {
        public Memory<byte> Memory { get; } = new byte[BlockSize];

        public void Dispose()
        {
        }
    }
}
