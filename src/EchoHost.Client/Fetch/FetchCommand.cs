using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using EchoHost.Client.Cli;
using Spectre.Console;

namespace EchoHost.Client.Fetch;

/// <summary>
/// <c>echoctl fetch</c>: downloads URLs to files, concurrently with a bound (or one at a time), and can time
/// both ways: the chapter's aiohttp example, with streaming, safe file names and no partial files.
/// </summary>
internal static class FetchCommand
{
    public static Command Create(Terminal terminal)
    {
        var urls = new Argument<string[]>("url") { Arity = ArgumentArity.OneOrMore, Description = "http:// or https:// URLs to download." };
        urls.Validators.Add(result =>
        {
            foreach (var url in result.GetValueOrDefault<string[]>() ?? [])
            {
                if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
                {
                    result.AddError($"'{url}' is not an http:// or https:// URL.");
                }
            }
        });
        var output = new Option<DirectoryInfo>("--out", "-o") { Description = "Folder for the files (created if missing).", DefaultValueFactory = _ => new DirectoryInfo(".") };
        var concurrency = CommonOptions.Number("--concurrency", "Downloads at once, in all (curl -Z's 50).", 50, 1, 1024, "-j");
        var perHost = CommonOptions.Number("--per-host", "Connections to one host at once.", 50, 1, 1024);
        var retries = CommonOptions.Number("--retries", "Attempts more after a refused connection or a 408, 429, 500, 502, 503 or 504 (0: none).", 3, 0, 20);
        var sequential = new Option<bool>("--sequential") { Description = "Download one at a time." };
        var compare = new Option<bool>("--compare") { Description = "Download one at a time, then concurrently, and print the speed-up." };
        var timeout = CommonOptions.Timeout(TimeSpan.FromSeconds(30), "The longest one download may take");
        var json = CommonOptions.Json();

        var command = new Command("fetch", "Download URLs to files concurrently, with progress.") { urls, output, concurrency, perHost, retries, sequential, compare, timeout, json };
        command.Validators.Add(result =>
        {
            if (result.GetValue(sequential) && result.GetValue(compare))
            {
                result.AddError("--sequential and --compare cannot be used together.");
            }
        });
        command.SetAction(async (parse, cancellationToken) =>
        {
            var targets = parse.GetRequiredValue(urls).Select(u => new Uri(u)).ToArray();
            var directory = parse.GetRequiredValue(output);
            var asJson = parse.GetValue(json);
            var limit = parse.GetValue(sequential) ? 1 : parse.GetValue(concurrency);
            try
            {
                directory.Create();
                using var http = CreateHttpClient(parse.GetValue(timeout), parse.GetValue(perHost), parse.GetValue(retries));
                var downloader = new Downloader(http, directory.FullName, parse.GetValue(timeout));
                var progress = terminal.ShowsProgress && !asJson ? terminal.Console : null;
                var report = parse.GetValue(compare)
                    ? await CompareAsync(downloader, targets, limit, progress, cancellationToken)
                    : await RunAsync(downloader, targets, limit, limit == 1 ? "sequential" : "concurrent", progress, cancellationToken);
                await WriteAsync(terminal, report, asJson);
                return report.Failed == 0 ? ExitCodes.Ok : ExitCodes.Failed;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                await terminal.Error.WriteLineAsync("echoctl fetch: cancelled; no partial file was kept.");
                return ExitCodes.Failed;
            }
            catch (IOException ex)
            {
                await terminal.Error.WriteLineAsync($"echoctl fetch: cannot write to {directory.FullName}: {ex.Message}");
                return ExitCodes.Failed;
            }
        });
        return command;
    }

    private static HttpClient CreateHttpClient(TimeSpan timeout, int perHost, int retries) => new(FetchRetries.Around(
        new SocketsHttpHandler
        {
            // One client for every download: connections to the same host are reused.
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
            ConnectTimeout = timeout,
            MaxConnectionsPerServer = perHost,
            AutomaticDecompression = System.Net.DecompressionMethods.All,
        },
        retries))
    {
        Timeout = Timeout.InfiniteTimeSpan,
        DefaultRequestHeaders = { { "User-Agent", "echoctl" } },
    };

    private static async Task<FetchReport> CompareAsync(Downloader downloader, Uri[] urls, int concurrency, IAnsiConsole? progress, CancellationToken cancellationToken)
    {
        var sequential = await RunAsync(downloader, urls, 1, "sequential", progress, cancellationToken);
        var concurrent = await RunAsync(downloader, urls, concurrency, "concurrent", progress, cancellationToken);
        return concurrent with
        {
            Mode = "compare",
            SequentialSeconds = sequential.Seconds,
            ConcurrentSeconds = concurrent.Seconds,
            SpeedUp = concurrent.Seconds > 0 ? Math.Round(sequential.Seconds / concurrent.Seconds, 2) : null,
        };
    }

    private static async Task<FetchReport> RunAsync(Downloader downloader, Uri[] urls, int concurrency, string mode, IAnsiConsole? progress, CancellationToken cancellationToken)
    {
        var names = new DownloadFileNames();
        var files = urls.Select(names.NameFor).ToArray();
        var results = new DownloadResult[urls.Length];
        var started = Stopwatch.GetTimestamp();

        async Task DownloadAllAsync(Func<int, Action<long, long?>> tracker) =>
            await Parallel.ForEachAsync(
                Enumerable.Range(0, urls.Length),
                new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancellationToken },
                async (i, token) => results[i] = await downloader.DownloadAsync(urls[i], files[i], tracker(i), token));

        if (progress is null)
        {
            await DownloadAllAsync(_ => static (_, _) => { });
        }
        else
        {
            await progress.Progress().AutoClear(false).Columns(
                    new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new DownloadedColumn(), new TransferSpeedColumn())
                .StartAsync(async context =>
                {
                    // The overall row counts bytes against the sizes announced so far.
                    var overall = context.AddTask($"{mode}: all {urls.Length} URL(s)", maxValue: 1);
                    var tasks = urls.Select(u => context.AddTask(Markup.Escape($"{mode}: {u}"), autoStart: false, maxValue: 1)).ToArray();
                    var gate = new Lock();
                    await DownloadAllAsync(
                        i => (chunk, total) =>
                        {
                            lock (gate)
                            {
                                if (total is not null)
                                {
                                    tasks[i].MaxValue = Math.Max(total.Value, 1);
                                    overall.MaxValue += total.Value;
                                }

                                // Without a Content-Length the size is only known at the end: the bar grows with the bytes.
                                foreach (var task in new[] { tasks[i], overall })
                                {
                                    task.MaxValue = Math.Max(task.MaxValue, task.Value + chunk);
                                    task.Increment(chunk);
                                }

                                tasks[i].StartTask();
                            }
                        });
                    foreach (var task in tasks.Append(overall))
                    {
                        task.Value = task.MaxValue;
                    }
                });
        }

        var seconds = Math.Round(Stopwatch.GetElapsedTime(started).TotalSeconds, 3);
        return new FetchReport(mode, concurrency, results, seconds, mode == "sequential" ? seconds : null, mode == "concurrent" ? seconds : null, null);
    }

    private static async Task WriteAsync(Terminal terminal, FetchReport report, bool asJson)
    {
        if (asJson)
        {
            await terminal.Out.WriteLineAsync(JsonSerializer.Serialize(report, ClientJson.Default.FetchReport));
        }
        else
        {
            var table = new Table().AddColumns("url", "status", "bytes", "seconds", "file");
            foreach (var download in report.Downloads)
            {
                table.AddRow(
                    Markup.Escape(download.Url),
                    download.Succeeded ? $"[green]{download.Status}[/]" : $"[red]{Markup.Escape(download.Error!)}[/]",
                    download.Bytes.ToString("N0", CultureInfo.InvariantCulture),
                    download.Seconds.ToString("0.000", CultureInfo.InvariantCulture),
                    Markup.Escape(download.File ?? "-"));
            }

            terminal.Console.Write(table);
            terminal.Console.MarkupLine(Markup.Escape(Totals(report)));
        }

        foreach (var failure in report.Downloads.Where(d => !d.Succeeded))
        {
            await terminal.Error.WriteLineAsync($"echoctl fetch: {failure.Url}: {failure.Error}");
        }
    }

    private static string Totals(FetchReport report) => report.SpeedUp is { } speedUp
        ? string.Create(CultureInfo.InvariantCulture, $"sequential {report.SequentialSeconds:0.000} s, concurrent ({report.Concurrency} at once) {report.ConcurrentSeconds:0.000} s: {speedUp:0.00}x faster; {report.Failed} failed")
        : string.Create(CultureInfo.InvariantCulture, $"{report.Downloads.Count} URL(s) {report.Mode}ly in {report.Seconds:0.000} s; {report.Failed} failed");
}
