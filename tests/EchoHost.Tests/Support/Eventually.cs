namespace EchoHost.Tests.Support;

/// <summary>Waits, with a deadline, for something the server reaches on its own time.</summary>
internal static class Eventually
{
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    public static Task TrueAsync(Func<bool> condition, TimeSpan? timeout = null) =>
        FindAsync(() => condition() ? "true" : null, () => "The condition did not become true in time.", timeout);

    /// <summary>
    /// Polls <paramref name="probe"/> until it finds something, the deadline passes, or <paramref name="giveUp"/>
    /// says waiting longer is pointless; then fails with <paramref name="describeFailure"/>.
    /// </summary>
    public static async Task<T> FindAsync<T>(Func<T?> probe, Func<string> describeFailure, TimeSpan? timeout = null, Func<bool>? giveUp = null)
        where T : class
    {
        var deadline = DateTime.UtcNow + (timeout ?? DefaultTimeout);
        while (true)
        {
            if (probe() is { } found)
            {
                return found;
            }

            if (DateTime.UtcNow > deadline || giveUp?.Invoke() == true)
            {
                throw new TimeoutException(describeFailure());
            }

            await Task.Delay(20);
        }
    }
}
