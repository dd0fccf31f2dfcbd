using System.Runtime.InteropServices;

namespace EchoHost.Transport;

/// <summary>
/// How many echo connections the process can hold open at once, from its file-descriptor limit
/// (RLIMIT_NOFILE). The soft limit is raised to the hard one when allowed. Then these are taken off:
/// - the descriptors already open (the runtime keeps each loaded assembly open: about 200 at start);
/// - <see cref="RuntimeReserve"/> for what opens later: assemblies loaded on first use (about 35 more once
///   connections have been served, measured), log files, the runtime's own;
/// - <see cref="HealthReserve"/> for the health listener: probes, scrapes, and a few dozen slow HTTP clients held
///   until the header timeout sheds them (it accepts no more than this at once);
/// - <see cref="RejectionHeadroom"/> for echo connections over the limit, held for the moment it takes to close them;
/// - what other protocol listeners reserve (<see cref="DescriptorReservation"/>): their connection limits.
/// The rest is for echo connections.
/// </summary>
public sealed partial class DescriptorBudget
{
    private const int RlimitNofile = 7;

    internal DescriptorBudget(long limit, int openAtStart, int reserved = 0)
    {
        Limit = limit;
        OpenAtStart = openAtStart;
        Reserved = RuntimeReserve + HealthReserve + RejectionHeadroom + reserved;
        EchoConnections = (int)Math.Clamp(limit - openAtStart - Reserved, 0, int.MaxValue);
    }

    public const int RuntimeReserve = 48;
    public const int HealthReserve = 64;
    public const int RejectionHeadroom = 8;

    /// <summary>The soft RLIMIT_NOFILE in force, after raising it; <see cref="long.MaxValue"/> where there is none.</summary>
    public long Limit { get; }

    public int OpenAtStart { get; }

    /// <summary>Descriptors kept from echo connections: the runtime's, the health port's, rejections' and other listeners'.</summary>
    public int Reserved { get; }

    /// <summary>Echo connections that fit.</summary>
    public int EchoConnections { get; }

    /// <summary>Echo connections open at once, admitted or being turned away: the echo listener does not accept above it.</summary>
    public int EchoAcceptCapacity => EchoConnections + RejectionHeadroom;

    /// <summary>Reads the limit (raising the soft limit to the hard one) and counts what is open now.</summary>
    /// <param name="reserved">Descriptors other protocol listeners keep for their connections.</param>
    public static DescriptorBudget Measure(int reserved = 0)
    {
        if (!OperatingSystem.IsLinux())
        {
            return new DescriptorBudget(long.MaxValue, 0, reserved);
        }

        var limits = default(ResourceLimit);
        if (GetResourceLimit(RlimitNofile, ref limits) != 0)
        {
            return new DescriptorBudget(long.MaxValue, 0, reserved);
        }

        if (limits.Current < limits.Maximum)
        {
            var raised = limits with { Current = limits.Maximum };
            if (SetResourceLimit(RlimitNofile, ref raised) == 0)
            {
                limits = raised;
            }
        }

        var limit = limits.Current > long.MaxValue ? long.MaxValue : (long)limits.Current;
        return new DescriptorBudget(limit, Directory.GetFiles("/proc/self/fd").Length, reserved);
    }

    [StructLayout(LayoutKind.Sequential)]
    private record struct ResourceLimit(ulong Current, ulong Maximum);

    [LibraryImport("libc", EntryPoint = "getrlimit", SetLastError = true)]
    private static partial int GetResourceLimit(int resource, ref ResourceLimit limit);

    [LibraryImport("libc", EntryPoint = "setrlimit", SetLastError = true)]
    private static partial int SetResourceLimit(int resource, ref ResourceLimit limit);
}
