using System.Text.Json;
using EchoHost.Client.Cli;
using Spectre.Console;

namespace EchoHost.Tests.Support;

/// <summary>One echoctl run, in process, with everything it wrote; <c>interactive</c> stands for a person's terminal.</summary>
internal sealed record ClientRun(int ExitCode, string Out, string Error, string Console)
{
    public static async Task<ClientRun> RunAsync(
        string[] args, TextReader? input = null, bool interactive = false, TimeProvider? clock = null, CancellationToken cancellationToken = default)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        using var console = new StringWriter();
        var ansi = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            Interactive = interactive ? InteractionSupport.Yes : InteractionSupport.No,
            Out = new AnsiConsoleOutput(console),
        });
        var terminal = new Terminal(ansi, output, error, input ?? TextReader.Null, InputIsInteractive: false);
        var exitCode = await EchoCtl.RunAsync(args, terminal, clock ?? TimeProvider.System, cancellationToken).WaitAsync(TimeSpan.FromSeconds(60), CancellationToken.None);
        return new ClientRun(exitCode, output.ToString(), error.ToString(), console.ToString());
    }

    public JsonElement Json()
    {
        using var document = JsonDocument.Parse(Out);
        return document.RootElement.Clone();
    }
}
