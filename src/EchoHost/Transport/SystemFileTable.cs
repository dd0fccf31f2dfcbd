using System.Globalization;

namespace EchoHost.Transport;

/// <summary>
/// Whether the system's open-file table is nearly full (ENFILE is close): then an accept would fail however few
/// descriptors this process holds, and Kestrel's accept loop would retry it at once. Reads
/// <c>/proc/sys/fs/file-nr</c> (allocated, unused, maximum) at most every <see cref="Refresh"/>; where it cannot be
/// read, the table is never full.
/// </summary>
public sealed class SystemFileTable(Func<string?> readFileNr, TimeProvider time)
{
    /// <summary>Handles left for the rest of the system before this host stops accepting.</summary>
    public const long Headroom = 64;

    public static readonly TimeSpan Refresh = TimeSpan.FromMilliseconds(100);

    private long _checkedAt = long.MinValue;
    private bool _nearlyFull;

    public static SystemFileTable Proc(TimeProvider time) => new(ReadProc, time);

    public bool IsNearlyFull()
    {
        var now = time.GetTimestamp();
        if (_checkedAt != long.MinValue && time.GetElapsedTime(Volatile.Read(ref _checkedAt), now) < Refresh)
        {
            return Volatile.Read(ref _nearlyFull);
        }

        var fields = readFileNr()?.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        var full = fields is [var allocated, _, var maximum] &&
                   long.TryParse(allocated, NumberStyles.None, CultureInfo.InvariantCulture, out var used) &&
                   long.TryParse(maximum, NumberStyles.None, CultureInfo.InvariantCulture, out var max) &&
                   used >= max - Headroom;
        Volatile.Write(ref _nearlyFull, full);
        Volatile.Write(ref _checkedAt, now);
        return full;
    }

    private static string? ReadProc()
    {
        try
        {
            return File.ReadAllText("/proc/sys/fs/file-nr");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
