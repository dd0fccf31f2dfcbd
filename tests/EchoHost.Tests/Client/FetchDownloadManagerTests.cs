using System.Security.Cryptography;
using System.Text.Json;
using EchoHost.Tests.Support;

namespace EchoHost.Tests.Client;

/// <summary>fetch as a download manager: resume, input files, checksums, not clobbering, bounds, retries of resets.</summary>
[Collection(SerialTests.Name)]
public sealed class FetchDownloadManagerTests : IAsyncLifetime, IDisposable
{
    private const int FourMebibytes = 4 * 1024 * 1024;
    private const int BreakAt = 1_500_000;
    private readonly DirectoryInfo _out = Directory.CreateTempSubdirectory("echoctl-fetch-");
    private FetchOrigin _origin = null!;

    public async Task InitializeAsync() => _origin = await FetchOrigin.StartAsync();

    public async Task DisposeAsync() => await _origin.DisposeAsync();

    public void Dispose() => _out.Delete(recursive: true);

    private Task<ClientRun> FetchAsync(string[] args, TextReader? input = null) => ClientRun.RunAsync(["fetch", "--out", _out.FullName, .. args], input);

    private string OutFile(string name) => Path.Combine(_out.FullName, name);

    private static JsonElement Download(ClientRun run, int index = 0) => run.Json().GetProperty("downloads")[index];

    [Fact]
    public async Task A_download_broken_at_1_5_MB_is_kept_hidden_and_continue_fetches_only_the_rest()
    {
        var url = _origin.Url($"/file/big?size={FourMebibytes}&breakAt={BreakAt}&breaks=1");

        var broken = await FetchAsync([url, "--retries", "0", "--json"]);

        Assert.Equal(1, broken.ExitCode);
        Assert.Contains("--continue resumes", Download(broken).GetProperty("error").GetString(), StringComparison.Ordinal);
        var partial = Assert.Single(_out.GetFiles(), f => f.Name.EndsWith(".partial", StringComparison.Ordinal));
        Assert.StartsWith(".", partial.Name, StringComparison.Ordinal);
        Assert.Equal(BreakAt, partial.Length);
        Assert.Equal(2, _out.GetFiles().Length);
        var sentBefore = _origin.BytesSent["big"];

        var resumed = await FetchAsync([url, "--continue", "--json"]);

        Assert.Equal(0, resumed.ExitCode);
        Assert.Equal("resumed", Download(resumed).GetProperty("outcome").GetString());
        Assert.Equal(BreakAt, Download(resumed).GetProperty("resumedFrom").GetInt64());
        Assert.Equal($"bytes={BreakAt}-", _origin.Ranges["big"].Last());
        Assert.InRange(_origin.BytesSent["big"] - sentBefore, 1, 3_000_000);
        var file = Download(resumed).GetProperty("file").GetString()!;
        Assert.Equal(FetchOrigin.ContentOf("big", FourMebibytes), await File.ReadAllBytesAsync(file));
        Assert.Equal([Path.GetFileName(file)], _out.GetFiles().Select(f => f.Name));
    }

    [Fact]
    public async Task With_retries_a_body_that_breaks_off_is_resumed_within_the_same_run()
    {
        var url = _origin.Url($"/file/twice?size={FourMebibytes}&breakAt={BreakAt}&breaks=1");

        var run = await FetchAsync([url, "--json"]);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal("resumed", Download(run).GetProperty("outcome").GetString());
        Assert.Equal(["", $"bytes={BreakAt}-"], _origin.Ranges["twice"]);
        Assert.Equal(FetchOrigin.ContentOf("twice", FourMebibytes), await File.ReadAllBytesAsync(Download(run).GetProperty("file").GetString()!));
    }

    [Fact]
    public async Task An_origin_that_ignores_range_gets_the_download_started_over_not_spliced()
    {
        var partialName = $".127.0.0.1_{_origin.BaseUri.Port}_norange_plain_size_{FourMebibytes}";
        var url = _origin.Url($"/norange/plain?size={FourMebibytes}");
        await File.WriteAllBytesAsync(OutFile(partialName + ".partial"), new byte[BreakAt]);
        await File.WriteAllTextAsync(OutFile(partialName + ".partial.validator"), $"\"plain-{FourMebibytes}\"");

        var run = await FetchAsync([url, "--continue", "--json"]);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal("downloaded", Download(run).GetProperty("outcome").GetString());
        Assert.Equal(FetchOrigin.ContentOf("plain", FourMebibytes), await File.ReadAllBytesAsync(Download(run).GetProperty("file").GetString()!));
        Assert.Single(_out.GetFiles());
    }

    [Fact]
    public async Task A_file_from_an_earlier_run_is_left_alone_and_reported_as_exists_unless_overwrite()
    {
        var url = _origin.Url("/page/kept?size=100");
        var first = await FetchAsync([url, "--json"]);
        var file = Download(first).GetProperty("file").GetString()!;
        await File.WriteAllTextAsync(file, "edited by hand");

        var again = await FetchAsync([url]);

        Assert.Equal(0, again.ExitCode);
        Assert.StartsWith($"exists     {url} -> {file}", again.Out, StringComparison.Ordinal);
        Assert.Equal("edited by hand", await File.ReadAllTextAsync(file));

        var overwritten = await FetchAsync([url, "--overwrite"]);

        Assert.Equal(0, overwritten.ExitCode);
        Assert.Equal(FetchOrigin.ContentOf("kept", 100), await File.ReadAllBytesAsync(file));
    }

    [Fact]
    public async Task An_input_file_gives_urls_names_and_checksums_and_skips_blank_lines_and_comments()
    {
        var good = SHA256.HashData(FetchOrigin.ContentOf("a", 500));
        var list = OutFile("list.txt");
        await File.WriteAllLinesAsync(list,
        [
            "# downloads for the test",
            "",
            $"{_origin.Url("/page/a?size=500")}\tfirst.bin\tsha256:{Convert.ToHexStringLower(good)}",
            $"  {_origin.Url("/page/b?size=300")}  ",
            $"{_origin.Url("/page/c?size=200")}\tthird.bin",
            $"{_origin.Url("/page/d?size=200")}\tbad.bin\tsha256:{new string('0', 64)}",
        ]);

        var run = await FetchAsync(["--input-file", list, "--json"]);

        Assert.Equal(1, run.ExitCode);
        var downloads = run.Json().GetProperty("downloads").EnumerateArray().ToArray();
        Assert.Equal(4, downloads.Length);
        Assert.Equal(FetchOrigin.ContentOf("a", 500), await File.ReadAllBytesAsync(OutFile("first.bin")));
        Assert.Equal(FetchOrigin.ContentOf("b", 300), await File.ReadAllBytesAsync(downloads[1].GetProperty("file").GetString()!));
        Assert.Equal(FetchOrigin.ContentOf("c", 200), await File.ReadAllBytesAsync(OutFile("third.bin")));
        Assert.StartsWith("checksum mismatch: expected sha256:0000", downloads[3].GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.False(File.Exists(OutFile("bad.bin")));
        Assert.DoesNotContain(_out.GetFiles(), f => f.Name.Contains("bad.bin", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Standard_input_can_be_the_input_file()
    {
        var run = await FetchAsync(["-i", "-", "--json"], new StringReader($"{_origin.Url("/page/in?size=10")}\tfrom-stdin.txt\n"));

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(FetchOrigin.ContentOf("in", 10), await File.ReadAllBytesAsync(OutFile("from-stdin.txt")));
    }

    [Theory]
    [InlineData("ftp://x/y", "list.txt:2: 'ftp://x/y' is not an http:// or https:// URL.")]
    [InlineData("http://x/y\t../escape", "list.txt:2: '../escape' is not a plain file name")]
    [InlineData("http://x/y\tname\tmd5:00", "list.txt:2: 'md5:00' is not a checksum")]
    [InlineData("http://x/y\tsame\nhttp://x/z\tsame", "list.txt:3: the file name 'same' is already taken")]
    public async Task A_bad_input_line_is_a_usage_error_naming_the_line_before_anything_is_downloaded(string lines, string message)
    {
        var list = OutFile("list.txt");
        await File.WriteAllTextAsync(list, $"# first line\n{lines}\n");

        var run = await FetchAsync(["--input-file", "list.txt".Replace("list.txt", list, StringComparison.Ordinal)]);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains(message.Replace("list.txt", list, StringComparison.Ordinal), run.Error, StringComparison.Ordinal);
        Assert.Equal(["list.txt"], _out.GetFiles().Select(f => f.Name));
    }

    [Fact]
    public async Task A_connection_reset_before_any_response_is_retried()
    {
        var run = await FetchAsync([_origin.Url("/reset/r1?failures=2"), "--json"]);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(3, _origin.Attempts["r1"].Count);
    }

    [Fact]
    public async Task A_refused_connection_is_retried_until_the_server_is_up()
    {
        using var reserve = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        reserve.Start();
        var port = ((System.Net.IPEndPoint)reserve.LocalEndpoint).Port;
        reserve.Stop();

        // Nothing listens for the first second, far longer than the first attempt takes to be refused; the
        // retries (200 ms doubling, five of them) outlast it.
        var fetching = FetchAsync([$"http://127.0.0.1:{port}/late", "--retries", "5", "--json"]);
        await Task.Delay(TimeSpan.FromSeconds(1));
        using var late = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, port);
        late.Start();
        var serving = Task.Run(async () =>
        {
            using var socket = await late.AcceptSocketAsync();
            var request = new byte[4096];
            await socket.ReceiveAsync(request);
            await socket.SendAsync("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nlater"u8.ToArray());
            socket.Shutdown(System.Net.Sockets.SocketShutdown.Send);
        });

        var run = await fetching;
        await serving;

        Assert.Equal(0, run.ExitCode);
        Assert.Equal("later", await File.ReadAllTextAsync(Download(run).GetProperty("file").GetString()!));
    }

    [Fact]
    public async Task The_per_host_bound_holds_at_the_origin()
    {
        var urls = Enumerable.Range(0, 30).Select(i => _origin.Url($"/page/h{i}?size=100&delay=100")).ToArray();

        var run = await FetchAsync([.. urls, "--per-host", "3", "--concurrency", "20", "--json"]);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(3, _origin.MaxInFlight);
    }

    [Fact]
    public async Task Ten_thousand_urls_from_an_input_file_all_arrive_and_print_one_line_each()
    {
        var list = OutFile("list.txt");
        await File.WriteAllLinesAsync(list, Enumerable.Range(0, 10_000).Select(i => $"{_origin.Url($"/page/m{i}?size=64")}\tm{i}"));

        var run = await FetchAsync(["-i", list]);

        Assert.Equal(0, run.ExitCode);
        var lines = run.Out.ReplaceLineEndings("\n").TrimEnd().Split('\n');
        Assert.Equal(10_001, lines.Length);
        Assert.EndsWith(": 10000 downloaded", lines[^1], StringComparison.Ordinal);
        Assert.Equal(10_001, _out.GetFiles().Length);
    }
}
