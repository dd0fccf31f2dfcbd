using EchoHost.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace EchoHost.Tests.Client;

[Collection(SerialTests.Name)]
public sealed class FetchTests : IAsyncLifetime, IDisposable
{
    private readonly DirectoryInfo _out = Directory.CreateTempSubdirectory("echoctl-fetch-");
    private FetchOrigin _origin = null!;

    public async Task InitializeAsync() => _origin = await FetchOrigin.StartAsync();

    public async Task DisposeAsync() => await _origin.DisposeAsync();

    public void Dispose() => _out.Delete(recursive: true);

    private string[] Pages(int count, int delay = 0, int size = 1000) =>
        Enumerable.Range(0, count).Select(i => _origin.Url($"/page/p{i}?size={size}&delay={delay}")).ToArray();

    private Task<ClientRun> FetchAsync(params string[] args) => ClientRun.RunAsync(["fetch", "--out", _out.FullName, .. args]);

    private long PartialBytes() => _out.GetFiles(".*.partial").Sum(f => f.Length);

    [Fact]
    public async Task Downloads_every_url_to_its_own_file_with_the_right_bytes()
    {
        var run = await FetchAsync([.. Pages(5, size: 200_000), "--json"]);

        Assert.Equal(0, run.ExitCode);
        var downloads = run.Json().GetProperty("downloads").EnumerateArray().ToArray();
        Assert.Equal(5, downloads.Length);
        for (var i = 0; i < 5; i++)
        {
            var file = downloads[i].GetProperty("file").GetString()!;
            Assert.Equal(200, downloads[i].GetProperty("status").GetInt32());
            Assert.Equal(FetchOrigin.ContentOf($"p{i}", 200_000), await File.ReadAllBytesAsync(Path.Combine(_out.FullName, file)));
        }
    }

    [Fact]
    public async Task On_a_terminal_the_progress_rows_show_each_download_and_every_file_arrives()
    {
        var run = await ClientRun.RunAsync(["fetch", "--out", _out.FullName, "--concurrency", "2", .. Pages(5, size: 50_000)], interactive: true);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(5, _out.GetFiles().Length);
        Assert.Contains("5 URL(s)", run.Console);
        Assert.DoesNotContain("Exception", run.Error + run.Console);
    }

    [Theory]
    [InlineData(408)]
    [InlineData(429)]
    [InlineData(500)]
    [InlineData(502)]
    [InlineData(503)]
    [InlineData(504)]
    public async Task Transient_statuses_are_retried_until_the_download_succeeds(int status)
    {
        var run = await FetchAsync(_origin.Url($"/flaky/s{status}?failures=2&status={status}"), "--json");

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(3, _origin.Attempts[$"s{status}"].Count);
        Assert.Equal(FetchOrigin.ContentOf($"s{status}", 1000), await File.ReadAllBytesAsync(Path.Combine(_out.FullName, run.Json().GetProperty("downloads")[0].GetProperty("file").GetString()!)));
    }

    [Fact]
    public async Task A_server_that_closes_after_each_http_1_0_response_gets_every_request_on_a_new_connection()
    {
        await using var origin = new Http10Origin();
        var urls = Enumerable.Range(0, 5).Select(i => origin.Url($"/h{i}?size=20000")).ToArray();

        var run = await FetchAsync([.. urls, "--sequential", "--retries", "0", "--json"]);

        Assert.True(run.ExitCode == 0, run.Out + run.Error);
        Assert.Equal(0, origin.Unanswered);
        Assert.Equal(5, origin.Connections);
        foreach (var download in run.Json().GetProperty("downloads").EnumerateArray())
        {
            var name = new Uri(download.GetProperty("url").GetString()!).AbsolutePath.TrimStart('/');
            Assert.Equal(FetchOrigin.ContentOf(name, 20000), await File.ReadAllBytesAsync(Path.Combine(_out.FullName, download.GetProperty("file").GetString()!)));
        }
    }

    [Fact]
    public async Task Retry_after_is_honoured_and_404_is_not_retried_and_retries_0_turns_retrying_off()
    {
        var run = await FetchAsync(_origin.Url("/flaky/later?failures=1&status=503&retryAfter=1"), _origin.Url("/flaky/missing?failures=5&status=404"));
        var off = await FetchAsync(_origin.Url("/flaky/once?failures=1&status=503"), "--retries", "0");

        Assert.Equal(1, run.ExitCode);
        var later = _origin.Attempts["later"].ToArray();
        Assert.Equal(2, later.Length);
        Assert.True(later[1] - later[0] >= TimeSpan.FromSeconds(0.9), $"the retry came {(later[1] - later[0]).TotalMilliseconds:0} ms after a Retry-After of 1 s");
        Assert.Single(_origin.Attempts["missing"]);
        Assert.Equal(1, off.ExitCode);
        Assert.Single(_origin.Attempts["once"]);
    }

    [Fact]
    public async Task Never_runs_more_than_the_concurrency_bound_and_really_overlaps()
    {
        var run = await FetchAsync([.. Pages(12, delay: 200), "--concurrency", "3"]);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(3, _origin.MaxInFlight);
    }

    [Fact]
    public async Task Sequential_downloads_one_at_a_time()
    {
        var run = await FetchAsync([.. Pages(4, delay: 50), "--sequential"]);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(1, _origin.MaxInFlight);
    }

    [Fact]
    public async Task The_same_url_twice_gives_two_files()
    {
        var url = _origin.Url("/page/same?size=10");

        var run = await FetchAsync(url, url, "--json");

        var files = run.Json().GetProperty("downloads").EnumerateArray().Select(d => d.GetProperty("file").GetString()).ToArray();
        Assert.Equal(2, files.Distinct().Count());
        Assert.Equal(2, _out.GetFiles().Length);
    }

    [Fact]
    public async Task Failures_are_reported_each_with_its_reason_and_leave_no_partial_file()
    {
        var good = _origin.Url("/page/good?size=5000");
        var run = await FetchAsync(
            good,
            _origin.Url("/status/404"),
            _origin.Url("/status/500"),
            _origin.Url("/abort"),
            _origin.Url("/page/slow?delay=10000"),
            "http://127.0.0.1:1/refused",
            "--idle-timeout",
            "3s",
            "--retries",
            "0",
            "--json");

        Assert.Equal(1, run.ExitCode);
        var errors = run.Json().GetProperty("downloads").EnumerateArray().Select(d => d.GetProperty("error").GetString()).ToArray();
        Assert.Null(errors[0]);
        Assert.Equal("HTTP 404 Not Found", errors[1]);
        Assert.Equal("HTTP 500 Internal Server Error", errors[2]);
        Assert.NotNull(errors[3]);
        Assert.Equal("no response within 3 s (--idle-timeout)", errors[4]);
        Assert.StartsWith("cannot connect", errors[5], StringComparison.Ordinal);
        Assert.Equal(["127.0.0.1_" + _origin.BaseUri.Port + "_page_good_size_5000"], _out.GetFiles().Select(f => f.Name));
        Assert.Equal(5, run.Error.ReplaceLineEndings("\n").Trim().Split('\n').Length);
    }

    [Fact]
    public async Task A_download_that_takes_longer_than_the_idle_timeout_finishes_while_bytes_keep_coming()
    {
        // Each piece comes just under the idle timeout after the last one reached the file, on the fake clock: the whole
        // body takes many times the timeout.
        var clock = new FakeTimeProvider();
        var fetch = ClientRun.RunAsync(["fetch", "--out", _out.FullName, _origin.Url("/paced/slow?size=12000&chunks=12"), "--idle-timeout", "1s", "--json"], clock: clock);
        for (var piece = 1; piece <= 12; piece++)
        {
            _origin.SendPiece("slow");
            if (piece < 12)
            {
                await Eventually.TrueAsync(() => PartialBytes() == piece * 1000 || fetch.IsCompleted, TimeSpan.FromSeconds(30));
                clock.Advance(TimeSpan.FromMilliseconds(900));
            }
        }

        var run = await fetch;

        Assert.True(run.ExitCode == 0, $"exit {run.ExitCode}: {run.Error} {run.Out}");
        Assert.Equal("downloaded", run.Json().GetProperty("downloads")[0].GetProperty("outcome").GetString());
        Assert.Equal(FetchOrigin.ContentOf("slow", 12000), File.ReadAllBytes(Path.Combine(_out.FullName, _out.GetFiles().Single().Name)));
    }

    [Fact]
    public async Task A_body_that_stops_flowing_fails_after_the_idle_timeout_naming_it_and_the_bytes_received()
    {
        // The idle timeout counts on a fake clock, moved on only once the pieces sent before the stall are on disk:
        // however slow the machine, the headers cannot time out first and the count is exact.
        var clock = new FakeTimeProvider();
        var fetch = ClientRun.RunAsync(["fetch", "--out", _out.FullName, _origin.Url("/paced/stuck?size=10000&chunks=10"), "--idle-timeout", "1s", "--retries", "0", "--json"], clock: clock);
        _origin.SendPiece("stuck");
        _origin.SendPiece("stuck");
        _origin.SendPiece("stuck");
        await Eventually.TrueAsync(() => PartialBytes() == 3000 || fetch.IsCompleted, TimeSpan.FromSeconds(30));
        clock.Advance(TimeSpan.FromSeconds(1));
        var run = await fetch;

        Assert.Equal(1, run.ExitCode);
        Assert.Equal("no data for 1 s (--idle-timeout) after 3000 bytes", run.Json().GetProperty("downloads")[0].GetProperty("error").GetString());
        Assert.Empty(_out.GetFiles());
    }

    [Fact]
    public async Task Max_time_bounds_the_whole_download_even_while_bytes_keep_coming()
    {
        // Pieces apart on the fake clock by well within the idle timeout; the second comes past --max-time.
        var clock = new FakeTimeProvider();
        var fetch = ClientRun.RunAsync(["fetch", "--out", _out.FullName, _origin.Url("/paced/long?size=10000&chunks=10"), "--idle-timeout", "1s", "--max-time", "1s", "--json"], clock: clock);
        for (var piece = 1; piece <= 2 && !fetch.IsCompleted; piece++)
        {
            _origin.SendPiece("long");
            await Eventually.TrueAsync(() => PartialBytes() == piece * 1000 || fetch.IsCompleted, TimeSpan.FromSeconds(30));
            clock.Advance(TimeSpan.FromMilliseconds(600));
        }

        var run = await fetch;

        Assert.Equal(1, run.ExitCode);
        Assert.Equal("not finished within --max-time 1 s", run.Json().GetProperty("downloads")[0].GetProperty("error").GetString());
    }

    [Fact]
    public async Task Interrupting_exits_130_and_leaves_no_partial_file_that_cannot_be_resumed()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));

        var run = await ClientRun.RunAsync(["fetch", "--out", _out.FullName, .. Pages(3, delay: 10_000)], cancellationToken: cancel.Token);

        Assert.Equal(130, run.ExitCode);
        Assert.Contains("interrupted; no partial file was kept", run.Error, StringComparison.Ordinal);
        Assert.Empty(_out.GetFiles());
    }

    [Fact]
    public async Task Compare_times_both_ways_and_reports_the_speed_up()
    {
        var run = await FetchAsync([.. Pages(4, delay: 200), "--compare", "--json"]);

        var json = run.Json();
        Assert.Equal(0, run.ExitCode);
        Assert.Equal("compare", json.GetProperty("mode").GetString());
        Assert.True(json.GetProperty("sequentialSeconds").GetDouble() > 0);
        Assert.True(json.GetProperty("concurrentSeconds").GetDouble() > 0);
        Assert.True(json.GetProperty("speedUp").GetDouble() > 0);
    }

    [Fact]
    public async Task Piped_it_prints_one_line_per_url_as_each_ends_then_the_totals()
    {
        var run = await FetchAsync([.. Pages(2), _origin.Url("/status/404")]);

        Assert.Equal(1, run.ExitCode);
        var lines = run.Out.ReplaceLineEndings("\n").TrimEnd().Split('\n');
        Assert.Equal(4, lines.Length);
        Assert.Equal(2, lines.Count(l => l.StartsWith("downloaded ", StringComparison.Ordinal) && l.Contains($" -> {_out.FullName}/127.0.0.1_", StringComparison.Ordinal)));
        Assert.Single(lines, l => l.StartsWith("failed ", StringComparison.Ordinal) && l.EndsWith("/status/404: HTTP 404 Not Found", StringComparison.Ordinal));
        Assert.StartsWith("3 URL(s) concurrently in ", lines[3], StringComparison.Ordinal);
        Assert.EndsWith(": 2 downloaded, 1 failed", lines[3], StringComparison.Ordinal);
        Assert.Empty(run.Console);
    }

    [Theory]
    [InlineData("ftp://example.org/file")]
    [InlineData("not a url")]
    public async Task A_url_that_is_not_http_is_a_usage_error(string url)
    {
        var run = await FetchAsync(url);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("is not an http:// or https:// URL", run.Error, StringComparison.Ordinal);
    }
}
