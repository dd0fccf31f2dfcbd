using System.Globalization;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;

namespace EchoHost.Transport.Tests.Support;

/// <summary>
/// What the kernel says about this process's sockets, rather than what a transport's own state says: the
/// descriptors open in <c>/proc/self/fd</c>, and the TCP table (<c>/proc/net/tcp</c>, what <c>ss</c> reads).
/// </summary>
internal static class KernelView
{
    /// <summary>The socket's inode, which names it in the descriptor table and the TCP table alike.</summary>
    public static long InodeOf(ConnectionContext connection)
    {
        var socket = connection.Features.Get<IConnectionSocketFeature>()?.Socket ?? throw new InvalidOperationException("The transport exposes no socket.");
        return InodeOf(socket);
    }

    public static long InodeOf(Socket socket)
    {
        var target = new FileInfo($"/proc/self/fd/{socket.Handle}").LinkTarget ?? throw new InvalidOperationException("Not a descriptor.");
        return long.Parse(target["socket:[".Length..^1], CultureInfo.InvariantCulture);
    }

    /// <summary>Whether the connection's descriptor is non-blocking (O_NONBLOCK in its /proc/self/fdinfo flags).</summary>
    public static bool IsNonBlocking(ConnectionContext connection)
    {
        const int NonBlocking = 0x800;
        var socket = connection.Features.Get<IConnectionSocketFeature>()?.Socket ?? throw new InvalidOperationException("The transport exposes no socket.");
        var flags = File.ReadLines($"/proc/self/fdinfo/{socket.Handle}").First(line => line.StartsWith("flags:", StringComparison.Ordinal));
        return (Convert.ToInt32(flags["flags:".Length..].Trim(), 8) & NonBlocking) != 0;
    }

    /// <summary>Whether any descriptor of this process still refers to the socket.</summary>
    public static bool IsOpen(long inode) => DescriptorsOf(inode) > 0;

    /// <summary>How many descriptors of this process refer to the socket.</summary>
    public static int DescriptorsOf(long inode)
    {
        var name = $"socket:[{inode}]";
        var count = 0;
        foreach (var descriptor in Directory.EnumerateFileSystemEntries("/proc/self/fd"))
        {
            try
            {
                if (new FileInfo(descriptor).LinkTarget == name)
                {
                    count++;
                }
            }
            catch (IOException)
            {
                // Closed while listed.
            }
        }

        return count;
    }

    public static int OpenDescriptors() => Directory.EnumerateFileSystemEntries("/proc/self/fd").Count();

    /// <summary>The kernel's state of the server's end of the connection to <paramref name="clientPort"/> (ESTABLISHED, CLOSE_WAIT, ...), or null when it has none.</summary>
    public static string? ServerSideState(int serverPort, int clientPort) =>
        TcpRow(serverPort, clientPort) is { } fields ? StateName(fields[3]) : null;

    /// <summary>Bytes the client's end of the connection sent that the server's kernel has not acknowledged yet (its tx_queue), or null when the TCP table has no such end.</summary>
    public static long? UnacknowledgedByServer(int serverPort, int clientPort) =>
        TcpRow(clientPort, serverPort) is { } fields ? long.Parse(fields[4].Split(':')[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture) : null;

    /// <summary>Bytes the server's end of the connection to <paramref name="clientPort"/> received that the process has not read yet (its rx_queue), or null when the TCP table has no such end.</summary>
    public static long? UnreadByServer(int serverPort, int clientPort) =>
        TcpRow(serverPort, clientPort) is { } fields ? long.Parse(fields[4].Split(':')[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture) : null;

    /// <summary>The inode of the server's end of the connection to <paramref name="clientPort"/>, or null when the TCP table has none.</summary>
    public static long? ServerSideInode(int serverPort, int clientPort) =>
        TcpRow(serverPort, clientPort) is { } fields ? long.Parse(fields[9], CultureInfo.InvariantCulture) : null;

    /// <summary>
    /// The requests of <paramref name="opcode"/> waiting on a file in any of this process's io_uring instances (the
    /// <c>PollList</c> of each <c>[io_uring]</c> descriptor's fdinfo: a poll, or an operation waiting for its socket).
    /// </summary>
    public static int RingRequestsWaiting(int opcode)
    {
        var count = 0;
        var wanted = $"op={opcode.ToString(CultureInfo.InvariantCulture)},";
        foreach (var entry in Directory.EnumerateFileSystemEntries("/proc/self/fd"))
        {
            try
            {
                if (new FileInfo(entry).LinkTarget == "anon_inode:[io_uring]")
                {
                    count += File.ReadLines($"/proc/self/fdinfo/{Path.GetFileName(entry)}").Count(line => line.Trim().StartsWith(wanted, StringComparison.Ordinal));
                }
            }
            catch (IOException)
            {
                // Closed while listed.
            }
        }

        return count;
    }

    /// <summary>
    /// The events an epoll instance of this process watches the socket for (<c>/proc/self/fdinfo</c> of each
    /// <c>[eventpoll]</c> descriptor), or null when none watches it.
    /// </summary>
    public static uint? EpollEvents(Socket socket)
    {
        var descriptor = socket.Handle.ToString(CultureInfo.InvariantCulture);
        var inode = InodeOf(socket).ToString("x", CultureInfo.InvariantCulture);
        foreach (var entry in Directory.EnumerateFileSystemEntries("/proc/self/fd"))
        {
            try
            {
                if (new FileInfo(entry).LinkTarget != "anon_inode:[eventpoll]")
                {
                    continue;
                }

                foreach (var line in File.ReadLines($"/proc/self/fdinfo/{Path.GetFileName(entry)}"))
                {
                    // tfd: <fd> events: <hex> data: <hex> pos:0 ino:<hex> sdev:<hex>
                    var fields = line.Split([' ', ':', '\t'], StringSplitOptions.RemoveEmptyEntries);
                    if (fields is ["tfd", var fd, "events", var events, "data", _, "pos", _, "ino", var ino, ..] && fd == descriptor && ino == inode)
                    {
                        return uint.Parse(events, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                    }
                }
            }
            catch (IOException)
            {
                // Closed while listed.
            }
        }

        return null;
    }

    /// <summary>User and system CPU time this process has used.</summary>
    public static TimeSpan CpuTime() => System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime;

    // The fields of the kernel's TCP table row for the end at localPort whose peer is at remotePort.
    private static string[]? TcpRow(int localPort, int remotePort)
    {
        foreach (var table in new[] { "/proc/net/tcp", "/proc/net/tcp6" })
        {
            foreach (var line in File.ReadLines(table).Skip(1))
            {
                var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (PortOf(fields[1]) == localPort && PortOf(fields[2]) == remotePort)
                {
                    return fields;
                }
            }
        }

        return null;
    }

    private static int PortOf(string address) => int.Parse(address[(address.IndexOf(':', StringComparison.Ordinal) + 1)..], NumberStyles.HexNumber, CultureInfo.InvariantCulture);

    private static string StateName(string code) => code switch
    {
        "01" => "ESTABLISHED",
        "04" => "FIN_WAIT1",
        "05" => "FIN_WAIT2",
        "06" => "TIME_WAIT",
        "07" => "CLOSE",
        "08" => "CLOSE_WAIT",
        "09" => "LAST_ACK",
        "0A" => "LISTEN",
        "0B" => "CLOSING",
        _ => code,
    };
}
