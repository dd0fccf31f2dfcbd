namespace EchoHost.Transport.Tests.Support;

/// <summary>Waits, with a deadline, for something the transport or the kernel reaches on its own time.</summary>
internal static class Eventually
{
    public static async Task TrueAsync(Func<bool> condition, string failure, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, failure);
            await Task.Delay(20);
        }
    }

    public static async Task<T> WithinAsync<T>(Task<T> task, string failure, TimeSpan? timeout = null)
    {
        var finished = await Task.WhenAny(task, Task.Delay(timeout ?? TimeSpan.FromSeconds(10)));
        Assert.True(finished == task, failure);
        return await task;
    }

    public static async Task WithinAsync(Task task, string failure, TimeSpan? timeout = null)
    {
        var finished = await Task.WhenAny(task, Task.Delay(timeout ?? TimeSpan.FromSeconds(10)));
        Assert.True(finished == task, failure);
        await task;
    }
}
