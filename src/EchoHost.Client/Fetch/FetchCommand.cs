using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using EchoHost.Client.Cli;
using Spectre.Console;

namespace EchoHost.Client.Fetch;

/// <summary>
/// <c>echoctl fetch</c>: the chapter's concurrent downloader as a download manager. URLs come from the command
/// line and <c>--input-file</c>; downloads run with a total and a per-host bound, are retried when the failure is
/// transient, resume with <c>--continue</c>, never clobber a file unless told to, and are checked against a
/// SHA-256 when the input file gives one.
/// </summary>
internal static class FetchCommand
{
    /// <summary>Up to this many downloads, a terminal also gets the table of every URL at the end.</summary>
    private const int TableRows = 50;

    public static Command Create(Terminal terminal, TimeProvider clock)
    {
        var urls = new Argument<string[]>("url") { Arity = ArgumentArity.ZeroOrMore, Description = "http:// or https:// URLs to download." };
        var inputFile = new Option<string>("--input-file", "-i")
        {
            Description = "Read URLs from this file ('-': standard input), one per line: URL, optionally TAB file name, optionally TAB sha256:HEX. Blank lines and # comments are skipped.",
        };
        var output = new Option<DirectoryInfo>("--out", "-o") { Description = "Folder for the files (created if missing).", DefaultValueFactory = _ => new DirectoryInfo(".") };
        var concurrency = CommonOptions.Number("--concurrency", "Downloads at once, in all (curl -Z's 50).", 50, 1, 1024, "-j");
        var perHost = CommonOptions.Number("--per-host", "Connections to one host at once.", 50, 1, 1024);
        var retries = CommonOptions.Number("--retries", "Attempts more after a refused or reset connection, a 408, 429, 500, 502, 503 or 504, or a body that broke off (0: none).", 3, 0, 20);
        var resume = new Option<bool>("--continue") { Description = "Resume partial downloads left by an earlier run (a Range request checked with If-Range); finished files are left alone." };
        var overwrite = new Option<bool>("--overwrite") { Description = "Download every URL again and replace files already in --out (by default they are left alone and reported as 'exists')." };
        var sequential = new Option<bool>("--sequential") { Description = "Download one at a time." };
        var compare = new Option<bool>("--compare") { Description = "Download one at a time, then concurrently, and print the speed-up (implies --overwrite)." };
        var connectTimeout = CommonOptions.Duration("--connect-timeout", TimeSpan.FromSeconds(10), "The longest a connection to a server may take to open");
        var idleTimeout = CommonOptions.Duration(
            "--idle-timeout", TimeSpan.FromSeconds(10), "Give up on a response (or resume it, within --retries) when no byte arrives for this long");
        var maxTime = CommonOptions.OptionalDuration("--max-time", "The longest one download may take, retries included (default: no limit)");
        var json = CommonOptions.Json();

        var command = new Command("fetch", "Download URLs to files concurrently, with retries, resume and progress.")
        {
            urls, inputFile, output, concurrency, perHost, retries, resume, overwrite, sequential, compare, connectTimeout, idleTimeout, maxTime, json,
        };
        command.Validators.Add(result =>
        {
            if (result.GetValue(sequential) && result.GetValue(compare))
            {
                result.AddError("--sequential and --compare cannot be used together.");
            }

            if (result.GetValue(resume) && (result.GetValue(overwrite) || result.GetValue(compare)))
            {
                result.AddError("--continue keeps what is already downloaded; it cannot be used with --overwrite or --compare.");
            }

            if ((result.GetValue(urls) ?? []).Length == 0 && result.GetValue(inputFile) is null)
            {
                result.AddError("Give at least one URL, or --input-file FILE.");
            }
        });
        command.SetAction(async (parse, cancellationToken) =>
        {
            var asJson = parse.GetValue(json);
            var limit = parse.GetValue(sequential) ? 1 : parse.GetValue(concurrency);
            var folder = new DownloadFolder(parse.GetRequiredValue(output).ToString());
            var existing = parse.GetValue(resume) ? ExistingFiles.Continue : parse.GetValue(overwrite) || parse.GetValue(compare) ? ExistingFiles.Overwrite : ExistingFiles.Skip;
            IReadOnlyList<FetchJob> jobs;
            try
            {
                jobs = ReadJobs(parse.GetValue(urls) ?? [], parse.GetValue(inputFile), terminal);
            }
            catch (Exception ex) when (ex is FetchListException or IOException or UnauthorizedAccessException)
            {
                await terminal.Error.WriteLineAsync($"echoctl fetch: {ex.Message}");
                return ExitCodes.Usage;
            }

            try
            {
                Directory.CreateDirectory(folder.FullName);
                var timeouts = new FetchTimeouts(parse.GetValue(connectTimeout), parse.GetValue(idleTimeout), parse.GetValue(maxTime));
                using var http = CreateHttpClient(timeouts, parse.GetValue(perHost), parse.GetValue(retries), clock);
                var downloader = new Downloader(http, folder, timeouts, clock, parse.GetValue(retries), existing);
                var display = asJson ? Display.None : terminal.ShowsProgress ? Display.Progress : Display.Lines;
                var run = new Run(downloader, jobs, terminal, display);
                var report = parse.GetValue(compare)
                    ? await run.CompareAsync(limit, cancellationToken)
                    : await run.ExecuteAsync(limit, limit == 1 ? "sequential" : "concurrent", label: "", cancellationToken);
                await WriteAsync(terminal, report, display);
                return report.Failed == 0 ? ExitCodes.Ok : ExitCodes.Failed;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                await terminal.Error.WriteLineAsync(Directory.EnumerateFiles(folder.FullName, ".*.partial").Any()
                    ? "echoctl fetch: interrupted; partial downloads that can be resumed are kept (hidden): run again with --continue."
                    : "echoctl fetch: interrupted; no partial file was kept.");
                return ExitCodes.Interrupted;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                await terminal.Error.WriteLineAsync($"echoctl fetch: cannot write to {folder.FullName}: {ex.Message}");
                return ExitCodes.Failed;
            }
        });
        return command;
    }

    private static IReadOnlyList<FetchJob> ReadJobs(string[] urls, string? inputFile, Terminal terminal)
    {
        if (inputFile is null)
        {
            return FetchList.Build(urls, null, "");
        }

        if (inputFile == "-")
        {
            return FetchList.Build(urls, terminal.In, "standard input");
        }

        using var reader = new StreamReader(inputFile);
        return FetchList.Build(urls, reader, inputFile);
    }

    private static HttpClient CreateHttpClient(FetchTimeouts timeouts, int perHost, int retries, TimeProvider clock) => new(FetchRetries.Around(
        new OneResponseServers(() => new SocketsHttpHandler
        {
            // One client for every download: connections to the same host are reused.
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
            ConnectTimeout = timeouts.Connect,
            MaxConnectionsPerServer = perHost,
            AutomaticDecompression = System.Net.DecompressionMethods.All,
        }),
        retries,
        timeouts.Idle,
        clock))
    {
        Timeout = Timeout.InfiniteTimeSpan,
        DefaultRequestHeaders = { { "User-Agent", "echoctl" } },
    };

    private enum Display
    {
        None,
        Lines,
        Progress,
    }

    private sealed class Run(Downloader downloader, IReadOnlyList<FetchJob> jobs, Terminal terminal, Display display)
    {
        public async Task<FetchReport> CompareAsync(int concurrency, CancellationToken cancellationToken)
        {
            var sequential = await ExecuteAsync(1, "sequential", "sequential: ", cancellationToken);
            var concurrent = await ExecuteAsync(concurrency, "concurrent", "concurrent: ", cancellationToken);
            return concurrent with
            {
                Mode = "compare",
                SequentialSeconds = sequential.Seconds,
                ConcurrentSeconds = concurrent.Seconds,
                SpeedUp = concurrent.Seconds > 0 ? Math.Round(sequential.Seconds / concurrent.Seconds, 2) : null,
            };
        }

        public async Task<FetchReport> ExecuteAsync(int concurrency, string mode, string label, CancellationToken cancellationToken)
        {
            var results = new DownloadResult[jobs.Count];
            var started = Stopwatch.GetTimestamp();

            async Task DownloadAllAsync(IFetchObserver? observer) =>
                await Parallel.ForEachAsync(
                    Enumerable.Range(0, jobs.Count),
                    new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancellationToken },
                    async (i, token) =>
                    {
                        var watcher = observer?.Started(jobs[i]);
                        results[i] = await downloader.DownloadAsync(jobs[i], watcher is null ? static (_, _) => { } : watcher.Received, token);
                        watcher?.Finished(results[i]);
                    });

            switch (display)
            {
                case Display.Progress:
                    await terminal.Console.Progress().AutoClear(false).HideCompleted(true)
                        .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new DownloadedColumn(), new TransferSpeedColumn())
                        .StartAsync(context => DownloadAllAsync(new ProgressObserver(context, label, jobs.Count)));
                    break;
                case Display.Lines:
                    await DownloadAllAsync(new LineObserver(terminal.Out));
                    break;
                default:
                    await DownloadAllAsync(null);
                    break;
            }

            var seconds = Math.Round(Stopwatch.GetElapsedTime(started).TotalSeconds, 3);
            return new FetchReport(mode, concurrency, results, seconds, mode == "sequential" ? seconds : null, mode == "concurrent" ? seconds : null, null);
        }
    }

    private static async Task WriteAsync(Terminal terminal, FetchReport report, Display display)
    {
        switch (display)
        {
            case Display.None:
                await terminal.Out.WriteLineAsync(JsonSerializer.Serialize(report, ClientJson.Default.FetchReport));
                break;
            case Display.Lines:
                await terminal.Out.WriteLineAsync(Totals(report));
                break;
            default:
                if (report.Downloads.Count <= TableRows)
                {
                    terminal.Console.Write(Table(report));
                }

                terminal.Console.MarkupLine(Markup.Escape(Totals(report)));
                break;
        }

        foreach (var failure in report.Downloads.Where(d => !d.Succeeded))
        {
            await terminal.Error.WriteLineAsync($"echoctl fetch: {failure.Url}: {failure.Error}");
        }
    }

    private static Table Table(FetchReport report)
    {
        var table = new Table().AddColumns("url", "outcome", "bytes", "seconds", "file");
        foreach (var download in report.Downloads)
        {
            table.AddRow(
                Markup.Escape(download.Url),
                download.Succeeded ? $"[green]{download.Outcome}[/]" : $"[red]{Markup.Escape(download.Error!)}[/]",
                download.Bytes.ToString("N0", CultureInfo.InvariantCulture),
                download.Seconds.ToString("0.000", CultureInfo.InvariantCulture),
                Markup.Escape(download.File ?? "-"));
        }

        return table;
    }

    private static string Totals(FetchReport report)
    {
        var counts = string.Join(", ", report.Downloads.GroupBy(d => d.Outcome).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Count()} {g.Key}"));
        return report.SpeedUp is { } speedUp
            ? string.Create(CultureInfo.InvariantCulture, $"sequential {report.SequentialSeconds:0.000} s, concurrent ({report.Concurrency} at once) {report.ConcurrentSeconds:0.000} s: {speedUp:0.00}x faster; {counts}")
            : string.Create(CultureInfo.InvariantCulture, $"{report.Downloads.Count} URL(s) {report.Mode}ly in {report.Seconds:0.000} s: {counts}");
    }
}
