using System.CommandLine;
using System.CommandLine.Help;
using EchoHost.Health;
using EchoHost.Shared;

namespace EchoHost.Hosting;

/// <summary>
/// The host's own command line, with System.CommandLine as echoctl's: <c>--help</c>, <c>--version</c>, the
/// <c>probe</c> verb, and settings as ordinary configuration keys (<c>--Echo:Port=9000</c> or
/// <c>--Echo:Port 9000</c>), which configuration reads as before. Anything that is neither is refused with a
/// suggestion, rather than starting a server the user did not ask for.
/// </summary>
public static class HostCommandLine
{
    private const string Description = """
        EchoHost: a raw-TCP echo service on Kestrel, with an HTTP health port.

        Settings (any configuration key, --Section:Key=value; also appsettings.json and Section__Key variables):
          --Echo:Port=8888                 echo port (0 picks a free one)
          --Echo:Address=                  bind address; empty for all interfaces
          --Echo:Mode=Echo                 Echo, or Receive (log only)
          --Echo:ReplyPrefix="Echoed back: "
          --Echo:CloseAfterReply=false     answer the first message, then close
          --Echo:Framing=Line              Line, or Chunk (one message per read)
          --Echo:MaxLineBytes=8192         longest line
          --Echo:IdleTimeout=5m            durations: 250ms, 5s, 2m, 1h or hh:mm:ss; 0s disables
          --Echo:WriteTimeout=1m
          --Echo:MaxConnections=10000
          --Echo:MemoryBudget=             bytes held for clients that do not read (64MiB); default from the container
          --Echo:ProxyProtocol=Off         Off, or Required (PROXY protocol v1/v2 header on every connection)
          --Echo:ProxyProtocolTimeout=5s
          --Echo:Tls:Certificate:Path=     PEM or PFX; turns TLS on   (also :KeyPath, :Password)
          --Health:Port=8080               HTTP /healthz, /readyz, /metrics
          --Metrics:Enabled=true
          --Transport:Kind=Linux           Linux (EchoHost's epoll transport; Linux x86-64), or Sockets (Kestrel's)
          --Transport:Threads=             epoll threads of the Linux transport; default: one per two cores
          --HostOptions:ShutdownTimeout=30s

        Exit codes: 0 stopped gracefully, 1 a listener cannot bind, 2 invalid settings or command line.
        """;

    // Written out rather than generated: the library's usage line would offer "[[--] <additional arguments>...]]",
    // which is not how settings are written.
    private const string Usage = """
        Usage:
          EchoHost [--Section:Key=value ...]          run the server
          EchoHost probe [--Section:Key=value ...]    ask a running host on this machine whether it is healthy
                                                      (exit 0, or 1), reading the same settings
          EchoHost --version                          print the version
          EchoHost --help                             print this
        """;

    private static readonly string[] SpaceSeparatedKeys = ["urls", "environment", "contentRoot", "applicationName"];

    /// <returns>An exit code when the command line was handled here (help, version, or an error); null to go on.</returns>
    public static int? Handle(string[] args, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(error);
        var probe = new Command(HealthProbe.Command, "Ask a running host on this machine whether it is healthy (exit 0, or 1), with the same settings.")
        {
            TreatUnmatchedTokensAsErrors = false,
        };
        var root = new RootCommand(Description) { probe };
        root.TreatUnmatchedTokensAsErrors = false;

        // The commands' own actions only mark "go on": the host and the probe run after this, with configuration.
        root.SetAction(_ => 0);
        probe.SetAction(_ => 0);
        var parse = root.Parse(args);
        var problem = parse.Errors.Select(e => e.Message).FirstOrDefault() ?? FirstNonSetting(parse.UnmatchedTokens);
        if (problem is null && parse.Action is HelpAction)
        {
            output.WriteLine(Description);
            output.WriteLine();
            output.WriteLine(Usage);
            return 0;
        }

        if (problem is null && parse.Action != root.Action && parse.Action != probe.Action)
        {
            return parse.Invoke(new InvocationConfiguration { Output = output, Error = error });
        }

        if (problem is null)
        {
            return null;
        }

        error.WriteLine($"EchoHost: {problem}");
        error.WriteLine("Run EchoHost with --help for the settings, the probe verb and the exit codes.");
        return ExitCodes.InvalidSettings;
    }

    private static string? FirstNonSetting(IReadOnlyList<string> tokens)
    {
        for (var i = 0; i < tokens.Count; i++)
        {
            var token = tokens[i];
            var key = token.TrimStart('-', '/');
            var isOption = token.StartsWith("--", StringComparison.Ordinal) || token.StartsWith('/');
            if (isOption && key.Length > 0 && key.Contains('=', StringComparison.Ordinal) && key[0] != '=')
            {
                continue;
            }

            if (isOption && (key.Contains(':', StringComparison.Ordinal) || SpaceSeparatedKeys.Contains(key, StringComparer.OrdinalIgnoreCase)) && i + 1 < tokens.Count)
            {
                i++;
                continue;
            }

            if (!isOption && Spelling.Closest(token, [HealthProbe.Command]) is not null)
            {
                return $"'{token}' is not a verb; did you mean '{HealthProbe.Command}'?";
            }

            return isOption
                ? $"'{token}' is not an option or a setting; settings are written --Section:Key=value (--Echo:Port=9000)."
                : $"'{token}' is neither the '{HealthProbe.Command}' verb nor a setting; settings are written --Section:Key=value (--Echo:Port=9000).";
        }

        return null;
    }
}
