using System.CommandLine;
using EchoHost.Client.Bench;
using EchoHost.Client.Fetch;
using EchoHost.Client.Send;

namespace EchoHost.Client.Cli;

/// <summary>The command line: three verbs, each with --help, exit codes 0 / 1 (failures) / 2 (usage).</summary>
public static class EchoCtl
{
    public static async Task<int> RunAsync(string[] args, Terminal terminal, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(terminal);
        var root = new RootCommand("echoctl: talk to an EchoHost, load-test it, and download URLs concurrently.")
        {
            SendCommand.Create(terminal),
            BenchCommand.Create(terminal),
            FetchCommand.Create(terminal),
        };

        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors)
            {
                await terminal.Error.WriteLineAsync($"echoctl: {error.Message}");
            }

            await terminal.Error.WriteLineAsync("Run 'echoctl --help' or 'echoctl <verb> --help' for usage.");
            return ExitCodes.Usage;
        }

        return await parse.InvokeAsync(new InvocationConfiguration { Output = terminal.Out, Error = terminal.Error }, cancellationToken);
    }
}
