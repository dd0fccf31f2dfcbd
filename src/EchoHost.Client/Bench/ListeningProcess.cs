using System.Globalization;
using System.Net;

namespace EchoHost.Client.Bench;

/// <summary>
/// The process on this machine that listens on a TCP port, found as <c>ss -ltnp</c> finds it: the listening
/// socket's inode in <c>/proc/net/tcp</c> and <c>tcp6</c>, then the process holding that socket among
/// <c>/proc/*/fd</c>. It finds the host whatever its process is called (<c>EchoHost</c> published, <c>dotnet</c>
/// for the dll build); null when the server is elsewhere or belongs to a user whose descriptors cannot be read.
/// </summary>
internal static class ListeningProcess
{
    private const string Listen = "0A";

    public static int? Find(string host, int port)
    {
        if (!OperatingSystem.IsLinux() || !IsThisMachine(host))
        {
            return null;
        }

        var sockets = Inodes("/proc/net/tcp", port).Concat(Inodes("/proc/net/tcp6", port)).Select(inode => $"socket:[{inode}]").ToHashSet();
        if (sockets.Count == 0)
        {
            return null;
        }

        foreach (var folder in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(folder), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            try
            {
                if (Directory.EnumerateFileSystemEntries(Path.Combine(folder, "fd")).Any(fd => new FileInfo(fd).LinkTarget is { } target && sockets.Contains(target)))
                {
                    return pid;
                }
            }
            catch (Exception ex) when (ex is UnauthorizedAccessException or IOException)
            {
                // Another user's process, or one that exited while being read.
            }
        }

        return null;
    }

    private static bool IsThisMachine(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || (IPAddress.TryParse(host, out var address) && IPAddress.IsLoopback(address));

    // Each line: sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ...; the port is the hex after the colon.
    private static IEnumerable<string> Inodes(string table, int port)
    {
        if (!File.Exists(table))
        {
            yield break;
        }

        foreach (var line in File.ReadLines(table).Skip(1))
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length > 9 && fields[3] == Listen
                && int.Parse(fields[1].AsSpan(fields[1].IndexOf(':', StringComparison.Ordinal) + 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture) == port)
            {
                yield return fields[9];
            }
        }
    }
}
