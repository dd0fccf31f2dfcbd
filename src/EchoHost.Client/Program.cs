using EchoHost.Client.Cli;
using Spectre.Console;

var terminal = new Terminal(AnsiConsole.Console, Console.Out, Console.Error, Console.In, InputIsInteractive: !Console.IsInputRedirected);
return await EchoCtl.RunAsync(args, terminal, TimeProvider.System);
