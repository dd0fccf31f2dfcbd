using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;

namespace EchoHost.Tests.Support;

/// <summary>
/// The host as users run it: <c>dotnet EchoHost.dll</c> in its own process, started from an unrelated
/// working directory, with command-line arguments and environment variables.
/// </summary>
public sealed partial class HostProcess : IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _stdout = new();
    private readonly ConcurrentQueue<string> _stderr = new();

    private HostProcess(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) => Enqueue(_stdout, e.Data);
        process.ErrorDataReceived += (_, e) => Enqueue(_stderr, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public IReadOnlyCollection<string> StandardOutput => _stdout;

    public IReadOnlyCollection<string> StandardError => _stderr;

    public int Id => _process.Id;

    /// <summary>Starts the host with both ports ephemeral unless <paramref name="arguments"/> say otherwise.</summary>
    /// <param name="descriptorLimit">Runs the host under <c>prlimit --nofile=N</c> (soft and hard limit), when set.</param>
    /// <param name="program">The host program's dll: EchoHost's, or a sample built on its pieces.</param>
    public static HostProcess Start(
        IEnumerable<string> arguments,
        IReadOnlyDictionary<string, string>? environment = null,
        string? hostDirectory = null,
        int? descriptorLimit = null,
        string program = "EchoHost.dll")
    {
        // prlimit execs the command, so the process is dotnet itself, with the same PID.
        var start = new ProcessStartInfo(descriptorLimit is null ? "dotnet" : "prlimit")
        {
            WorkingDirectory = Path.GetTempPath(),
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (descriptorLimit is { } limit)
        {
            start.ArgumentList.Add($"--nofile={limit}");
            start.ArgumentList.Add("dotnet");
        }

        start.ArgumentList.Add(Path.Combine(hostDirectory ?? AppContext.BaseDirectory, program));
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        return new HostProcess(Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start."));
    }

    public static HostProcess StartOnEphemeralPorts(
        IEnumerable<string>? arguments = null,
        IReadOnlyDictionary<string, string>? environment = null,
        string? hostDirectory = null,
        int? descriptorLimit = null,
        string program = "EchoHost.dll") =>
        Start(["--Echo:Port=0", "--Health:Port=0", .. arguments ?? []], environment, hostDirectory, descriptorLimit, program);

    /// <summary>Waits for the start-up line that names the echo listener and returns its loopback address.</summary>
    public async Task<IPEndPoint> WaitForEchoListenerAsync()
    {
        var line = await WaitForOutputAsync(l => EchoListenerLine().IsMatch(l));
        return new IPEndPoint(IPAddress.Loopback, int.Parse(EchoListenerLine().Match(line).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>Waits for the start-up line that names the health listener and returns its loopback URI.</summary>
    public async Task<Uri> WaitForHealthListenerAsync()
    {
        var line = await WaitForOutputAsync(l => HealthListenerLine().IsMatch(l));
        return new Uri($"http://127.0.0.1:{HealthListenerLine().Match(line).Groups[1].Value}");
    }

    /// <summary>Waits for the start-up line of the listener named <paramref name="name"/> and returns its loopback address.</summary>
    public async Task<IPEndPoint> WaitForListenerAsync(string name)
    {
        var pattern = new Regex($@"{name} listener serving on \S+:(\d+) ");
        var line = await WaitForOutputAsync(pattern.IsMatch);
        return new IPEndPoint(IPAddress.Loopback, int.Parse(pattern.Match(line).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
    }

    public Task<string> WaitForOutputAsync(Func<string, bool> match) =>
        Eventually.FindAsync(
            () => _stdout.FirstOrDefault(match),
            () => $"No such line. stdout:\n{string.Join("\n", _stdout)}\nstderr:\n{string.Join("\n", _stderr)}",
            Deadline,
            giveUp: () => _process.HasExited);

    /// <summary>The host's resident set size now.</summary>
    public long ResidentBytes()
    {
        _process.Refresh();
        return _process.WorkingSet64;
    }

    /// <summary>User and system CPU time the host has used so far, from <c>/proc/PID/stat</c>.</summary>
    public TimeSpan CpuTime()
    {
        var fields = File.ReadAllText($"/proc/{Id}/stat").Split(')')[^1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var ticks = long.Parse(fields[11], System.Globalization.CultureInfo.InvariantCulture) + long.Parse(fields[12], System.Globalization.CultureInfo.InvariantCulture);
        return TimeSpan.FromSeconds(ticks / 100.0);
    }

    /// <summary>Descriptors the host has open now.</summary>
    public int OpenDescriptors() => Directory.GetFiles($"/proc/{Id}/fd").Length;

    public bool HasExited => _process.HasExited;

    public void Signal(string name)
    {
        using var kill = Process.Start("kill", ["-" + name, Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    public async Task<int> WaitForExitAsync()
    {
        using var timeout = new CancellationTokenSource(Deadline);
        await _process.WaitForExitAsync(timeout.Token);
        return _process.ExitCode;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        _process.Dispose();
    }

    private static void Enqueue(ConcurrentQueue<string> lines, string? line)
    {
        if (line is not null)
        {
            lines.Enqueue(line);
        }
    }

    [GeneratedRegex(@"Echo listener serving on \S+:(\d+) \((raw|TLS over) TCP\)")]
    private static partial Regex EchoListenerLine();

    [GeneratedRegex(@"Health listener serving on \S+:(\d+) \(HTTP")]
    private static partial Regex HealthListenerLine();
}
