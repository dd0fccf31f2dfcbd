using EchoHost.Buffers;
using Microsoft.Extensions.Time.Testing;

namespace EchoHost.Tests.Buffers;

public sealed class LargeBlockMemoryPoolTests : IDisposable
{
    private readonly FakeTimeProvider _time = new();
    private readonly List<BlockStore> _stores = [];

    [Theory]
    [InlineData(-1)]
    [InlineData(1)]
    [InlineData(4096)]
    [InlineData(16384)]
    public void Every_rent_is_one_whole_block(int minBufferSize)
    {
        using var pool = new LargeBlockMemoryPool(Store(16384, 4));
        using var block = pool.Rent(minBufferSize);

        Assert.Equal(16384, block.Memory.Length);
    }

    [Fact]
    public void Asking_for_more_than_a_block_is_refused()
    {
        using var pool = new LargeBlockMemoryPool(Store(1024, 4));

        Assert.Throws<ArgumentOutOfRangeException>(() => pool.Rent(1025));
    }

    [Fact]
    public void A_returned_block_is_handed_out_again()
    {
        var store = Store(1024, 4);
        using var pool = new LargeBlockMemoryPool(store);
        var first = pool.Rent();
        first.Dispose();

        using var second = pool.Rent();

        Assert.Same(first, second);
        Assert.Equal(0, store.RetainedBlocks);
    }

    [Fact]
    public void After_a_burst_only_the_retention_limit_is_kept_by_all_pools_together()
    {
        var store = Store(1024, 3);
        using var echo = new LargeBlockMemoryPool(store);
        using var health = new LargeBlockMemoryPool(store);
        var burst = Enumerable.Range(0, 10).Select(i => (i % 2 == 0 ? echo : health).Rent()).ToList();

        burst.ForEach(block => block.Dispose());

        Assert.Equal(3, store.RetainedBlocks);
    }

    [Fact]
    public void Blocks_left_unused_for_a_whole_interval_are_given_back()
    {
        var store = Store(1024, 100);
        using var pool = new LargeBlockMemoryPool(store);
        Enumerable.Range(0, 40).Select(_ => pool.Rent()).ToList().ForEach(block => block.Dispose());
        Assert.Equal(40, store.RetainedBlocks);

        // The first interval started before the burst; in the next, a steady load keeps ten blocks in use.
        _time.Advance(BlockStore.TrimInterval);
        var inUse = Enumerable.Range(0, 10).Select(_ => pool.Rent()).ToList();
        _time.Advance(BlockStore.TrimInterval);
        Assert.Equal(0, store.RetainedBlocks);

        inUse.ForEach(block => block.Dispose());
        Assert.Equal(10, store.RetainedBlocks);
        _time.Advance(BlockStore.TrimInterval);
        _time.Advance(BlockStore.TrimInterval);
        Assert.Equal(0, store.RetainedBlocks);
    }

    [Fact]
    public void Blocks_in_steady_use_are_kept()
    {
        var store = Store(1024, 100);
        using var pool = new LargeBlockMemoryPool(store);
        Enumerable.Range(0, 8).Select(_ => pool.Rent()).ToList().ForEach(block => block.Dispose());
        _time.Advance(BlockStore.TrimInterval);

        for (var interval = 0; interval < 3; interval++)
        {
            var all = Enumerable.Range(0, 8).Select(_ => pool.Rent()).ToList();
            all.ForEach(block => block.Dispose());
            _time.Advance(BlockStore.TrimInterval);
        }

        Assert.Equal(8, store.RetainedBlocks);
    }

    [Fact]
    public void Returning_a_block_twice_is_an_error_and_does_not_duplicate_it()
    {
        var store = Store(1024, 4);
        using var pool = new LargeBlockMemoryPool(store);
        var block = pool.Rent();
        block.Dispose();

        Assert.Throws<InvalidOperationException>(block.Dispose);
        Assert.Equal(1, store.RetainedBlocks);
    }

    [Fact]
    public void A_disposed_pool_refuses_rents_and_its_late_returns_serve_the_other_pools()
    {
        var store = Store(1024, 4);
        var pool = new LargeBlockMemoryPool(store);
        var late = pool.Rent();
        pool.Dispose();

        late.Dispose();

        Assert.Throws<ObjectDisposedException>(() => pool.Rent());
        using var other = new LargeBlockMemoryPool(store);
        Assert.Same(late, other.Rent());
    }

    public void Dispose() => _stores.ForEach(s => s.Dispose());

    private BlockStore Store(int blockSize, int maxRetained)
    {
        var store = new BlockStore(blockSize, maxRetained, _time);
        _stores.Add(store);
        return store;
    }
}
