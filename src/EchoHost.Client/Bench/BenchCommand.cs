using EchoHost.Shared;
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
            Description = "pingpong (the default): send, wait for the reply (req/s, latency); stream: pipelined bytes (MB/s); "
                + "churn: a connection per message (connections/s); idle: hold the connections (with --server-pid, the server's memory per connection).",
            HelpName = "pingpong|stream|churn|idle",

            // No default value factory: help would print the enum's name (PingPong); an absent --mode is PingPong, the first.
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
        var tls = new TlsOptions();
        var pipeline = CommonOptions.Number("--pipeline", "Ping-pong: requests each connection keeps in flight.", 1, 1, 1024, "-P");
        var rate = CommonOptions.Number("--rate", "Ping-pong: requests per second in all, sent on schedule whatever the replies do (open loop); latency counts from when each was due. 0: closed loop.", 0L, 0L, 100_000_000L, "-R");
        var warmup = new Option<TimeSpan>("--warmup")
        {
            Description = "Run this long before measuring (500ms, 2s...).",
            DefaultValueFactory = _ => TimeSpan.Zero,
            CustomParser = Durations.ParseNonNegative,
        };
        var threads = CommonOptions.Number("--threads", "Ping-pong over plain TCP: event loops sharing the connections (one thread each).", 1, 1, 64, "-t");
        var hdrOut = new Option<FileInfo>("--hdr-out") { Description = "Write every latency to this file in HdrHistogram's log format (for HdrHistogram's plotter and tools)." };
        var serverPid = new Option<int?>("--server-pid")
        {
            Description = "Idle mode: the server's process ID, to report its resident memory per connection (default: the process listening on --port, when it runs on this machine).",
        };

        var command = new Command("bench", "Load-test an echo server and verify every reply.")
        {
            host, port, mode, connections, size, duration, requests, prefixBytes, timeout, json, pipeline, rate, warmup, threads, hdrOut, serverPid,
        };
        foreach (var option in tls.All)
        {
            command.Options.Add(option);
        }

        command.Validators.Add(tls.Validate);
        command.Validators.Add(result =>
        {
            // A mode that did not parse is reported already (reading it would throw); the checks below need a valid one.
            if (result.GetResult(mode) is { Tokens: [{ } token] } && !Enum.TryParse<BenchMode>(token.Value, ignoreCase: true, out _))
            {
                return;
            }

            var chosen = result.GetValue(mode);
            var onEpoll = chosen == BenchMode.PingPong && !tls.IsOn(result) && LinuxCalls.IsSupported;
            if ((result.GetValue(pipeline) > 1 || result.GetValue(rate) > 0 || result.GetValue(threads) > 1) && !onEpoll)
            {
                result.AddError("--pipeline, --rate and --threads drive ping-pong over plain TCP on Linux x86-64 (epoll); not with --tls, other modes or other systems.");
            }

            if (result.GetValue(pipeline) > 1 && result.GetValue(rate) > 0)
            {
                result.AddError("--rate sends on schedule, as many in flight as it takes: it cannot be used with --pipeline.");
            }

            if (result.GetValue(warmup) > TimeSpan.Zero && result.GetValue(requests) > 0)
            {
                result.AddError("--warmup is for timed runs (--duration): with --requests, the warm-up would take requests from the count.");
            }

            if (result.GetValue(serverPid) is not null && chosen != BenchMode.Idle)
            {
                result.AddError("--server-pid is for --mode idle.");
            }
        });
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
                tls.From(parse),
                parse.GetValue(pipeline),
                parse.GetValue(rate),
                parse.GetValue(warmup),
                parse.GetValue(threads),
                parse.GetValue(serverPid) ?? (parse.GetValue(mode) == BenchMode.Idle ? ListeningProcess.Find(parse.GetRequiredValue(host), parse.GetValue(port)) : null));
            var asJson = parse.GetValue(json);
            BenchResult result;
            try
            {
                result = await BenchRun.RunAsync(settings, terminal.ShowsProgress && !asJson ? terminal.Console : null, cancellationToken);
            }
            catch (ClientException ex)
            {
                await terminal.Error.WriteLineAsync($"echoctl bench: {ex.Message}");
                return ExitCodes.Failed;
            }

            if (parse.GetValue(hdrOut) is { } file && result.Histogram is { } histogram)
            {
                await using var stream = file.Create();
                using var log = new HdrHistogram.HistogramLogWriter(stream);
                log.Write(DateTime.UtcNow.AddSeconds(-result.Seconds), histogram);
            }

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
                var why = result.Mode == "idle" ? $"{result.Idle?.Held ?? 0} of {result.Connections} connection(s) held" : result.Requests == 0 ? "no request completed" : $"{result.Errors} error(s), {result.Mismatches} mismatched repl(ies)";
                await terminal.Error.WriteLineAsync($"echoctl bench: {why}{(result.LastError is null ? "" : $"; last error: {result.LastError}")}");
                if (result.MismatchExplanation is { } explanation)
                {
                    await terminal.Error.WriteLineAsync($"echoctl bench: {explanation}");
                }
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
        if (result.Idle is { } idle)
        {
            table.AddRow("held", N(idle.Held));
            if (idle.BytesPerConnection is { } perConnection)
            {
                table.AddRow("server RSS before / after", $"{N(idle.ServerRssBefore!.Value / 1024.0, "N0")} / {N(idle.ServerRssAfter!.Value / 1024.0, "N0")} KiB");
                table.AddRow("server memory per connection", $"{N(perConnection / 1024, "0.00")} KiB");
            }

            return table;
        }

        table.AddRow("engine", result.Engine == "epoll" ? $"epoll, {N(result.Threads)} thread(s)" : "a task per connection");
        if (result.TargetRate is { } target)
        {
            table.AddRow("target rate", $"{N(target)}/s (open loop)");
        }
        else if (result.Pipeline > 1)
        {
            table.AddRow("pipeline", N(result.Pipeline));
        }
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
