using EchoHost.Tests.Integration;
using EchoHost.Tests.Support;

namespace EchoHost.Tests.Client;

public sealed class SendTests : IClassFixture<EchoListenerTests.DefaultHost>
{
    private readonly EchoHostFactory _host;

    public SendTests(EchoListenerTests.DefaultHost host) => _host = host.Factory;

    private string Port => _host.EchoEndPoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public async Task Sends_each_argument_and_prints_each_reply()
    {
        var run = await ClientRun.RunAsync(["send", "--host", "127.0.0.1", "--port", Port, "Hello, World!", "second"]);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal("Echoed back: Hello, World!\nEchoed back: second\n", run.Out.ReplaceLineEndings("\n"));
    }

    [Fact]
    public async Task Relays_standard_input_lines_when_given_no_arguments()
    {
        var run = await ClientRun.RunAsync(["send", "--host", "127.0.0.1", "--port", Port], new StringReader("one\ntwo\n"));

        Assert.Equal(0, run.ExitCode);
        Assert.Equal("Echoed back: one\nEchoed back: two\n", run.Out);
    }

    [Fact]
    public async Task Writes_json_for_scripts()
    {
        var run = await ClientRun.RunAsync(["send", "--host", "127.0.0.1", "--port", Port, "--json", "hi"]);

        var json = run.Json();
        Assert.Equal(0, run.ExitCode);
        Assert.Equal("hi", json.GetProperty("replies")[0].GetProperty("message").GetString());
        Assert.Equal("Echoed back: hi\n", json.GetProperty("replies")[0].GetProperty("reply").GetString());
        Assert.False(json.GetProperty("closedByServer").GetBoolean());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, json.GetProperty("error").ValueKind);
    }

    [Fact]
    public async Task A_refused_connection_is_one_clear_line_and_exit_1()
    {
        var run = await ClientRun.RunAsync(["send", "--host", "127.0.0.1", "--port", "1", "hi"]);

        Assert.Equal(1, run.ExitCode);
        Assert.Equal("echoctl send: cannot connect to 127.0.0.1:1: connection refused (is the server running?)\n", run.Error.ReplaceLineEndings("\n"));
    }

    [Theory]
    [InlineData("--port", "0")]
    [InlineData("--port", "x")]
    [InlineData("--timeout", "soon")]
    [InlineData("--timeout", "5")]
    public async Task Bad_options_are_usage_errors_with_exit_2(string option, string value)
    {
        var run = await ClientRun.RunAsync(["send", option, value, "hi"]);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("Run 'echoctl --help'", run.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { "send", "--prot", "8888", "hi" }, "echoctl: '--prot' is not an option of 'send'; did you mean '--port'? To send a message that starts with '-', put it after --.")]
    [InlineData(new[] { "fetch", "--conc", "8", "http://x/" }, "echoctl: '--conc' is not an option of 'fetch'")]
    [InlineData(new[] { "sned", "hi" }, "echoctl: 'sned' is not a verb; did you mean 'send'?")]
    [InlineData(new[] { "frobnicate" }, "echoctl: 'frobnicate' is not a verb; choose one of send, bench, fetch.")]
    [InlineData(new[] { "bench", "--mode", "pong" }, "echoctl: --mode must be pingpong, stream, churn or idle, not 'pong'.")]
    [InlineData(new[] { "send", "--timeout", "5", "hi" }, "echoctl: --timeout is '5': a bare number has no unit; write 5s or 00:00:05.")]
    public async Task Mistakes_get_one_clear_line_and_exit_2(string[] args, string expected)
    {
        var run = await ClientRun.RunAsync(args);

        Assert.Equal(2, run.ExitCode);
        Assert.StartsWith(expected, run.Error, StringComparison.Ordinal);
        Assert.Empty(run.Out);
    }

    [Fact]
    public async Task Double_dash_ends_options_so_a_message_may_start_with_a_dash()
    {
        var run = await ClientRun.RunAsync(["send", "--host", "127.0.0.1", "--port", Port, "--", "-v", "--not-an-option"]);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal("Echoed back: -v\nEchoed back: --not-an-option\n", run.Out.ReplaceLineEndings("\n"));
    }

    [Theory]
    [InlineData("send")]
    [InlineData("bench")]
    [InlineData("fetch")]
    public async Task Every_verb_has_help(string verb)
    {
        var run = await ClientRun.RunAsync([verb, "--help"]);

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("Usage:", run.Out, StringComparison.Ordinal);
        Assert.Contains($" {verb} ", run.Out, StringComparison.Ordinal);
        Assert.Contains("--json", run.Out, StringComparison.Ordinal);
    }
}

/// <summary>send against servers that close, stay silent, or want one message per connection.</summary>
public sealed class SendAgainstModesTests
{
    [Fact]
    public async Task Against_close_after_reply_one_message_succeeds_and_a_second_is_reported_unanswered()
    {
        using var host = EchoHostFactory.Start(new Dictionary<string, string> { ["Echo:CloseAfterReply"] = "true" });
        var port = host.EchoEndPoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);

        var one = await ClientRun.RunAsync(["send", "--host", "127.0.0.1", "--port", port, "only"]);
        var three = await ClientRun.RunAsync(["send", "--host", "127.0.0.1", "--port", port, "first", "second", "third"]);

        Assert.Equal(0, one.ExitCode);
        Assert.Equal("Echoed back: only\n", one.Out.ReplaceLineEndings("\n"));
        Assert.Equal("Connection closed by the server.\n", one.Error.ReplaceLineEndings("\n"));
        Assert.Equal(1, three.ExitCode);
        Assert.Equal("Echoed back: first\n", three.Out.ReplaceLineEndings("\n"));
        Assert.Contains("the server closed the connection; no reply to 'second', 'third'", three.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task In_relay_mode_the_server_closing_ends_the_session_and_is_reported()
    {
        using var host = EchoHostFactory.Start(new Dictionary<string, string> { ["Echo:CloseAfterReply"] = "true" });
        var port = host.EchoEndPoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);

        var run = await ClientRun.RunAsync(["send", "--host", "127.0.0.1", "--port", port], new OneLineThenWait("hello"));

        Assert.Equal(0, run.ExitCode);
        Assert.Equal("Echoed back: hello\n", run.Out);
        Assert.Contains("Connection closed by the server.", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_server_that_never_replies_times_out_with_a_hint()
    {
        using var host = EchoHostFactory.Start(new Dictionary<string, string> { ["Echo:Mode"] = "Receive" });
        var port = host.EchoEndPoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);

        var run = await ClientRun.RunAsync(["send", "--host", "127.0.0.1", "--port", port, "--timeout", "500ms", "anyone?"]);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("no reply to 'anyone?' within 0.5 s (is the server in Receive mode; if that port speaks TLS, add --tls?)", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Piped_lines_after_the_servers_close_are_reported_unanswered_with_exit_1()
    {
        using var host = EchoHostFactory.Start(new Dictionary<string, string> { ["Echo:CloseAfterReply"] = "true" });
        var port = host.EchoEndPoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);

        var run = await ClientRun.RunAsync(["send", "--host", "127.0.0.1", "--port", port], new StringReader("one\ntwo\n"));

        Assert.Equal(1, run.ExitCode);
        Assert.Equal("Echoed back: one\n", run.Out);
        Assert.Contains("no reply to 'two'", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ctrl_c_in_relay_mode_exits_130_at_once()
    {
        using var host = EchoHostFactory.Start();
        var port = host.EchoEndPoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        using var ctrlC = new CancellationTokenSource();

        var running = ClientRun.RunAsync(["send", "--host", "127.0.0.1", "--port", port], new OneLineThenWait("hello"), cancellationToken: ctrlC.Token);
        await host.Logs.WaitForAsync(m => m.StartsWith("Data received: 'hello", StringComparison.Ordinal));
        await ctrlC.CancelAsync();
        var run = await running.WaitAsync(TimeSpan.FromSeconds(1));

        Assert.Equal(130, run.ExitCode);
        Assert.DoesNotContain("closed by the server", run.Error, StringComparison.Ordinal);
    }

    /// <summary>A person who typed one line and then waits: the next read never returns on its own.</summary>
    private sealed class OneLineThenWait(string line) : TextReader
    {
        private bool _given;

        public override async ValueTask<string?> ReadLineAsync(CancellationToken cancellationToken)
        {
            if (!_given)
            {
                _given = true;
                return line;
            }

            await Task.Delay(Timeout.Infinite, cancellationToken);
            return null;
        }
    }
}
