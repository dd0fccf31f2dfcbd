using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;
using EchoHost.Connections.Tls;
using EchoHost.Tests.Support;
using Microsoft.Extensions.Time.Testing;
using Serilog.Events;

namespace EchoHost.Tests.Tls;

/// <summary>The real host with TLS on the echo port, on real Kestrel sockets.</summary>
public sealed class TlsListenerTests : IDisposable
{
    private readonly TestCertificates _files = new();
    private readonly FakeTimeProvider _time = new();

    // echoctl's default 5 s covers a handshake on any machine a person uses; a shared CI machine running the
    // suite's other hosts at once needs more, and these tests are not about timeouts.
    private const string SlowMachine = "30s";

    public TlsListenerTests() => _files.Publish("echo-one");

    [Fact]
    public async Task Echoes_over_tls_and_serves_a_swapped_certificate_to_new_connections_only()
    {
        using var host = StartHost();
        await using var first = await ConnectTlsAsync(host);
        Assert.Equal("CN=echo-one", first.RemoteCertificate!.Subject);
        Assert.Equal("Echoed back: hello\n", await RoundTripAsync(first, "hello\n"));

        _files.Publish("echo-two");
        _time.Advance(ReloadingCertificate.PollInterval);

        await using var second = await ConnectTlsAsync(host);
        Assert.Equal("CN=echo-two", second.RemoteCertificate!.Subject);
        Assert.Equal("Echoed back: again\n", await RoundTripAsync(first, "again\n"));
        Assert.Equal("Echoed back: new\n", await RoundTripAsync(second, "new\n"));
    }

    [Fact]
    public async Task Only_tls_1_2_and_1_3_are_offered_and_the_start_up_line_says_tls()
    {
        using var host = StartHost();
        Assert.Contains(host.Logs.Messages, line => line.EndsWith($":{host.EchoEndPoint.Port} (TLS over TCP)", StringComparison.Ordinal));
        await using var tls12 = await ConnectTlsAsync(host, SslProtocols.Tls12);
        Assert.Equal(SslProtocols.Tls12, tls12.SslProtocol);
    }

    [Fact]
    public async Task A_plaintext_client_is_closed_without_an_echo_quietly_and_others_are_served()
    {
        using var host = StartHost();
        await using var plain = await host.ConnectAsync();
        await plain.SendAsync("not tls\n");

        var (received, _) = await plain.ReceiveToEndAsync();
        Assert.DoesNotContain("Echoed back", Encoding.ASCII.GetString(received), StringComparison.Ordinal);
        await host.Logs.WaitForAsync(m => m.EndsWith("the TLS handshake did not complete", StringComparison.Ordinal));
        Assert.DoesNotContain(host.Logs.Events, e => e.Level > LogEventLevel.Information);

        await using var good = await ConnectTlsAsync(host);
        Assert.Equal("Echoed back: fine\n", await RoundTripAsync(good, "fine\n"));
    }

    [Fact]
    public async Task Echoctl_send_speaks_tls_and_refuses_an_untrusted_certificate_unless_told_otherwise()
    {
        using var host = StartHost();
        var port = host.EchoEndPoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);

        var trusted = await ClientRun.RunAsync(["send", "--host", "127.0.0.1", "--port", port, "--tls", "--insecure", "--timeout", SlowMachine, "over tls"]);
        Assert.Equal(0, trusted.ExitCode);
        Assert.Equal("Echoed back: over tls\n", trusted.Out.ReplaceLineEndings("\n"));

        var piped = await ClientRun.RunAsync(["send", "--host", "127.0.0.1", "--port", port, "--tls", "-k", "--timeout", SlowMachine], new StringReader("one\ntwo\n"));
        Assert.Equal(0, piped.ExitCode);
        Assert.Equal("Echoed back: one\nEchoed back: two\n", piped.Out);

        var untrusted = await ClientRun.RunAsync(["send", "--host", "127.0.0.1", "--port", port, "--tls", "--timeout", SlowMachine, "hi"]);
        Assert.Equal(1, untrusted.ExitCode);
        Assert.Contains("TLS handshake", untrusted.Error, StringComparison.Ordinal);
        Assert.Contains("--insecure", untrusted.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Echoctl_send_trusts_the_certificate_in_cacert_and_no_other()
    {
        _files.Publish("localhost");
        using var host = StartHost();
        var port = host.EchoEndPoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var served = Path.Combine(_files.Folder, "served.pem");
        var other = Path.Combine(_files.Folder, "other.pem");
        File.Copy(_files.CertificatePath, served);
        File.WriteAllText(other, TestCertificates.CreatePem("localhost").Certificate);

        var trusted = await ClientRun.RunAsync(["send", "--host", "localhost", "--port", port, "--tls", "--cacert", served, "--timeout", SlowMachine, "pinned"]);
        Assert.Equal(0, trusted.ExitCode);
        Assert.Equal("Echoed back: pinned\n", trusted.Out.ReplaceLineEndings("\n"));

        var untrusted = await ClientRun.RunAsync(["send", "--host", "localhost", "--port", port, "--tls", "--cacert", other, "--timeout", SlowMachine, "pinned"]);
        Assert.Equal(1, untrusted.ExitCode);
        Assert.Contains("--cacert must hold its issuer", untrusted.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("plain", "the server closed the connection; no reply to 'plain' (if that port speaks TLS, add --tls)")]
    [InlineData("hi", "(is the server in Receive mode; if that port speaks TLS, add --tls?)")]
    public async Task Echoctl_send_without_tls_to_a_tls_port_suggests_tls(string message, string error)
    {
        using var host = StartHost();
        var port = host.EchoEndPoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);

        // "plain\n" is more than a TLS record header and fails the handshake at once; "hi\n" leaves it waiting.
        var run = await ClientRun.RunAsync(["send", "--host", "127.0.0.1", "--port", port, "--timeout", "1s", message]);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains(error, run.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--cacert /nonexistent.pem --tls", "--cacert is '/nonexistent.pem': ")]
    [InlineData("--cacert /etc/hostname --tls", "the file holds no PEM certificate")]
    [InlineData("--cacert {pem}", "--cacert is for --tls.")]
    [InlineData("--cacert {pem} --tls --insecure", "choose one")]
    public async Task Cacert_mistakes_are_usage_errors(string options, string message)
    {
        var pem = Path.Combine(_files.Folder, "ca.pem");
        File.WriteAllText(pem, TestCertificates.CreatePem("ca").Certificate);

        var run = await ClientRun.RunAsync(["send", "--port", "1", .. options.Replace("{pem}", pem, StringComparison.Ordinal).Split(' '), "hi"]);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains(message, run.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("pingpong")]
    [InlineData("stream")]
    [InlineData("churn")]
    public async Task Echoctl_bench_speaks_tls_in_every_mode(string mode)
    {
        using var host = StartHost();
        var port = host.EchoEndPoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);

        var run = await ClientRun.RunAsync(["bench", "--port", port, "--tls", "--insecure", "--mode", mode, "--connections", "2", "--requests", "200", "--timeout", SlowMachine, "--json"]);

        Assert.True(run.ExitCode == 0, $"exit {run.ExitCode}: {run.Error} {run.Out}");
        var json = run.Json();
        Assert.Equal(200, json.GetProperty("requests").GetInt64());
        Assert.Equal(0, json.GetProperty("mismatches").GetInt64());
        Assert.Equal(0, json.GetProperty("errors").GetInt64());
    }

    public void Dispose() => _files.Dispose();

    private EchoHostFactory StartHost() => EchoHostFactory.Start(
        new Dictionary<string, string>
        {
            ["Echo:Tls:Certificate:Path"] = _files.CertificatePath,
            ["Echo:Tls:Certificate:KeyPath"] = _files.KeyPath,
        },
        _time);

    private static async Task<SslStream> ConnectTlsAsync(EchoHostFactory host, SslProtocols protocols = SslProtocols.None)
    {
        var client = new TcpClient();
        await client.ConnectAsync(host.EchoEndPoint);
        // The certificates are self-signed and checked by subject in the tests themselves.
        var tls = new SslStream(client.GetStream(), leaveInnerStreamOpen: false, (_, certificate, _, _) => certificate is not null);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "localhost", EnabledSslProtocols = protocols }, timeout.Token);
        return tls;
    }

    private static async Task<string> RoundTripAsync(SslStream tls, string line)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await tls.WriteAsync(Encoding.ASCII.GetBytes(line), timeout.Token);
        var expected = "Echoed back: ".Length + line.Length;
        var buffer = new byte[expected];
        await tls.ReadExactlyAsync(buffer, timeout.Token);
        return Encoding.ASCII.GetString(buffer);
    }
}
