using EchoHost.Buffers;

namespace EchoHost.Tests.Buffers;

public sealed class LargeBlockMemoryPoolTests
{
    [Theory]
    [InlineData(-1)]
    [InlineData(1)]
    [InlineData(4096)]
    [InlineData(16384)]
    public void Every_rent_is_one_whole_block(int minBufferSize)
    {
        using var pool = new LargeBlockMemoryPool(16384, 4);
        using var block = pool.Rent(minBufferSize);

        Assert.Equal(16384, block.Memory.Length);
    }

    [Fact]
    public void Asking_for_more_than_a_block_is_refused()
    {
        using var pool = new LargeBlockMemoryPool(1024, 4);

        Assert.Throws<ArgumentOutOfRangeException>(() => pool.Rent(1025));
    }

    [Fact]
    public void A_returned_block_is_handed_out_again()
    {
        using var pool = new LargeBlockMemoryPool(1024, 4);
        var first = pool.Rent();
        first.Dispose();

        using var second = pool.Rent();

        Assert.Same(first, second);
        Assert.Equal(0, pool.RetainedBlocks);
    }

    [Fact]
    public void After_a_burst_only_the_retention_limit_is_kept()
    {
        using var pool = new LargeBlockMemoryPool(1024, 3);
        var burst = Enumerable.Range(0, 10).Select(_ => pool.Rent()).ToList();

        burst.ForEach(block => block.Dispose());

        Assert.Equal(3, pool.RetainedBlocks);
    }

    [Fact]
    public void Returning_a_block_twice_is_an_error_and_does_not_duplicate_it()
    {
        using var pool = new LargeBlockMemoryPool(1024, 4);
        var block = pool.Rent();
        block.Dispose();

        Assert.Throws<InvalidOperationException>(block.Dispose);
        Assert.Equal(1, pool.RetainedBlocks);
    }

    [Fact]
    public void A_disposed_pool_refuses_rents_and_drops_late_returns()
    {
        var pool = new LargeBlockMemoryPool(1024, 4);
        var late = pool.Rent();
        pool.Dispose();

        late.Dispose();

        Assert.Throws<ObjectDisposedException>(() => pool.Rent());
        Assert.Equal(0, pool.RetainedBlocks);
    }
}
