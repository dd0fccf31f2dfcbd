using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using EchoHost.Client.Cli;
using Spectre.Console;

namespace EchoHost.Client.Bench;

/// <summary><c>echoctl bench</c>: a load generator for echo servers, in the spirit of redis-benchmark.</summary>
internal static class BenchCommand
{
    public static Command Create(Terminal terminal)
    {
        var host = CommonOptions.Host("localhost");
        var port = CommonOptions.Port();
        var mode = new Option<BenchMode>("--mode", "-m")
        {
            Description = "pingpong: send, wait for the reply (req/s, latency); stream: pipelined bytes (MB/s); churn: a connection per message (connections/s).",
            DefaultValueFactory = _ => BenchMode.PingPong,
            CustomParser = ParseMode,
        };
        var connections = CommonOptions.Number("--connections", "Concurrent connections.", 10, 1, 10_000, "-c");
        var size = CommonOptions.Number("--size", "Bytes per message, its final LF included.", 64, 1, 1024 * 1024, "-s");
        var duration = new Option<TimeSpan>("--duration", "-d")
        {
            Description = "How long to run (a unit: 500ms, 10s, 2m; or hh:mm:ss).",
            DefaultValueFactory = _ => TimeSpan.FromSeconds(10),
            CustomParser = Durations.ParsePositive,
        };
        var requests = CommonOptions.Number("--requests", "Run this many requests in all instead of for a duration (0: use --duration).", 0L, 0L, long.MaxValue, "-n");
        var prefixBytes = CommonOptions.Number("--prefix-bytes", "Bytes the server adds before each message ('Echoed back: ' is 13; 0 for a pure echo).", 13, 0, 4096);
        var timeout = CommonOptions.Timeout(TimeSpan.FromSeconds(5), "How long to wait to connect, and the longest gap without any reply");
        var json = CommonOptions.Json();
        var tls = TlsOptions.Tls();
        var insecure = TlsOptions.Insecure();

        var command = new Command("bench", "Load-test an echo server and verify every reply.")
        {
            host, port, mode, connections, size, duration, requests, prefixBytes, timeout, json, tls, insecure,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var settings = new BenchSettings(
                parse.GetRequiredValue(host),
                parse.GetValue(port),
                parse.GetValue(mode),
                parse.GetValue(connections),
                parse.GetValue(size),
                parse.GetValue(duration),
                parse.GetValue(requests),
                parse.GetValue(prefixBytes),
                parse.GetValue(timeout),
                parse.GetValue(tls),
                parse.GetValue(insecure));
            var asJson = parse.GetValue(json);
            var result = await BenchRun.RunAsync(settings, terminal.ShowsProgress && !asJson ? terminal.Console : null, cancellationToken);

            if (asJson)
            {
                await terminal.Out.WriteLineAsync(JsonSerializer.Serialize(result, ClientJson.Default.BenchResult));
            }
            else if (result.Requests > 0 || result.Succeeded)
            {
                terminal.Console.Write(Summary(result));
            }

            if (!result.Succeeded)
            {
                var why = result.Requests == 0 ? "no request completed" : $"{result.Errors} error(s), {result.Mismatches} mismatched repl(ies)";
                await terminal.Error.WriteLineAsync($"echoctl bench: {why}{(result.LastError is null ? "" : $"; last error: {result.LastError}")}");
                return ExitCodes.Failed;
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    private static BenchMode ParseMode(System.CommandLine.Parsing.ArgumentResult result)
    {
        var text = result.Tokens.Count == 1 ? result.Tokens[0].Value : string.Empty;
        var names = Enum.GetNames<BenchMode>().Select(n => n.ToLowerInvariant()).ToArray();
        var match = Enum.GetValues<BenchMode>().Where(m => m.ToString().Equals(text, StringComparison.OrdinalIgnoreCase)).ToArray();
        if (match.Length == 1)
        {
            return match[0];
        }

        result.AddError($"--mode must be {string.Join(", ", names[..^1])} or {names[^1]}, not '{text}'.");
        return default;
    }

    private static Table Summary(BenchResult result)
    {
        static string N(double value, string format = "N0") => value.ToString(format, CultureInfo.InvariantCulture);
        var table = new Table().Title($"echoctl bench {result.Mode} against {result.Server}").AddColumn("metric").AddColumn(new TableColumn("value").RightAligned());
        table.AddRow("connections", N(result.Connections));
        table.AddRow("message bytes (+ prefix)", $"{N(result.MessageBytes)} (+{N(result.PrefixBytes)})");
        table.AddRow("duration", $"{N(result.Seconds, "0.000")} s");
        table.AddRow(result.Mode == "churn" ? "connections made" : "requests", N(result.Requests));
        table.AddRow(result.Mode == "churn" ? "connections/s" : "requests/s", N(result.RequestsPerSecond));
        table.AddRow("throughput", $"{N(result.MegabytesPerSecond, "0.00")} MB/s");
        if (result.Latency is { } latency)
        {
            table.AddRow("latency p50 / p90 / p99", $"{N(latency.P50)} / {N(latency.P90)} / {N(latency.P99)} µs");
            table.AddRow("latency p99.9 / max", $"{N(latency.P999)} / {N(latency.Max)} µs");
        }

        table.AddRow("mismatched replies", N(result.Mismatches));
        table.AddRow("errors", N(result.Errors));
        return table;
    }
}
