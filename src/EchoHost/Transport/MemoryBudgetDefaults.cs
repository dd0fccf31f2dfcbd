using EchoHost.Buffers;
using EchoHost.Connections.Limits;
using EchoHost.Echo;

namespace EchoHost.Transport;

/// <summary>
/// The echo listener's <see cref="MemoryBudget"/>: <c>Echo:MemoryBudget</c> when set; otherwise half the
/// container's memory limit (cgroup v2 <c>memory.max</c> or v1 <c>memory.limit_in_bytes</c>, the limit the GC
/// also reads) when there is one, else 512 MiB. A connection whose client does not read is charged its input
/// limit (<c>Echo:MaxLineBytes</c> + one read), its output limit, and a block of rounding for each.
/// </summary>
public static class MemoryBudgetDefaults
{
    public const long WithoutContainerLimit = 512L * 1024 * 1024;

    private static readonly string[] CgroupLimitFiles = ["/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"];

    public static MemoryBudget For(EchoOptions echo)
    {
        ArgumentNullException.ThrowIfNull(echo);
        var stalled = (long)echo.MaxLineBytes + LargeBlockPoolExtensions.BlockSize + TransportServiceCollectionExtensions.MaxWriteBufferSize
            + (2L * LargeBlockPoolExtensions.BlockSize);
        return new MemoryBudget(echo.MemoryBudget ?? FromContainerLimit(), stalled);
    }

    /// <summary>Half the container's memory limit, or <see cref="WithoutContainerLimit"/> when none is set.</summary>
    public static long FromContainerLimit()
    {
        foreach (var file in CgroupLimitFiles)
        {
            if (File.Exists(file)
                && long.TryParse(File.ReadAllText(file).Trim(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var limit)
                && limit < (1L << 50))
            {
                return limit / 2;
            }
        }

        return WithoutContainerLimit;
    }
}
