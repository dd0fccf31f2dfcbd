using System.CommandLine;
using System.CommandLine.Parsing;
using EchoHost.Client.Bench;
using EchoHost.Client.Fetch;
using EchoHost.Client.Send;
using EchoHost.Shared;

namespace EchoHost.Client.Cli;

/// <summary>The command line: three verbs, each with --help, exit codes 0 / 1 (failures) / 2 (usage) / 130 (Ctrl+C).</summary>
public static class EchoCtl
{
    /// <param name="clock">What fetch's idle, header and --max-time timeouts and its retry delays count on.</param>
    public static async Task<int> RunAsync(string[] args, Terminal terminal, TimeProvider clock, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(terminal);
        ArgumentNullException.ThrowIfNull(clock);
        var root = new RootCommand("echoctl: talk to an EchoHost, load-test it, and download URLs concurrently.")
        {
            SendCommand.Create(terminal),
            BenchCommand.Create(terminal),
            FetchCommand.Create(terminal, clock),
        };

        var parse = root.Parse(args);
        var problem = VerbProblem(root, args) ?? OptionLikeArgument(parse) ?? parse.Errors.Select(e => e.Message).FirstOrDefault();
        if (problem is not null)
        {
            await terminal.Error.WriteLineAsync($"echoctl: {problem}");
            await terminal.Error.WriteLineAsync("Run 'echoctl --help' or 'echoctl <verb> --help' for usage.");
            return ExitCodes.Usage;
        }

        return await parse.InvokeAsync(new InvocationConfiguration { Output = terminal.Out, Error = terminal.Error }, cancellationToken);
    }

    private static string? VerbProblem(RootCommand root, string[] args)
    {
        var verbs = root.Subcommands.Select(c => c.Name).ToArray();
        var first = args.FirstOrDefault();
        if (first is null)
        {
            return $"choose a verb: {string.Join(", ", verbs)}.";
        }

        if (first.StartsWith('-') || verbs.Contains(first))
        {
            return null;
        }

        return Spelling.Closest(first, verbs) is { } verb
            ? $"'{first}' is not a verb; did you mean '{verb}'?"
            : $"'{first}' is not a verb; choose one of {string.Join(", ", verbs)}.";
    }

    // Free arguments (send's messages, fetch's URLs) would otherwise swallow a mistyped option as data.
    private static string? OptionLikeArgument(ParseResult parse)
    {
        foreach (var token in parse.Tokens.TakeWhile(t => t.Type != TokenType.DoubleDash))
        {
            if (token.Type == TokenType.Argument && token.Value.Length > 1 && token.Value[0] == '-' && !char.IsAsciiDigit(token.Value[1]))
            {
                var command = parse.CommandResult.Command;
                var names = command.Options.SelectMany(o => o.Aliases.Append(o.Name));
                var suggestion = Spelling.Closest(token.Value, names) is { } name ? $"; did you mean '{name}'?" : ".";
                return $"'{token.Value}' is not an option of '{command.Name}'{suggestion} To send a message that starts with '-', put it after --.";
            }
        }

        return null;
    }
}
