using System.Net;
using System.Net.Sockets;
using EchoHost.Hosting;
using EchoHost.Tests.Support;
using Microsoft.AspNetCore.Connections;

namespace EchoHost.Tests.Integration;

/// <summary>The host's answers to a new user's mistakes: one line, what to do next, the documented exit code.</summary>
public sealed class FirstContactTests
{
    [Fact]
    public async Task An_address_this_machine_does_not_have_exits_1_with_one_line_and_what_to_do()
    {
        using var host = HostProcess.Start(["--Echo:Address=10.9.9.9", "--Echo:Port=0", "--Health:Port=0"]);

        Assert.Equal(1, await host.WaitForExitAsync());
        Assert.Equal(
            "EchoHost cannot start. The echo listener (Echo:Port) cannot bind 10.9.9.9:0: 10.9.9.9 is not an address of this machine; use one of its addresses in Echo:Address, or leave it empty for all interfaces.",
            Assert.Single(host.StandardError));
    }

    [Theory]
    [InlineData(SocketError.AccessDenied, "permission denied; ports below 1024 need root or CAP_NET_BIND_SERVICE, so choose one from 1024 up with --Echo:Port=PORT")]
    [InlineData(SocketError.AddressFamilyNotSupported, "this machine does not support IPv6; use an address of the other family in Echo:Address")]
    public void Every_bind_failure_says_what_to_do(SocketError error, string advice)
    {
        Microsoft.AspNetCore.Server.Kestrel.Core.ListenOptions? options = null;
        new Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions().Listen(IPAddress.IPv6Any, 80, listen => options = listen);
        var listener = new Listener("Echo", "Echo:Port", "raw TCP", options!, 100);

        var failure = new BindFailure(listener, new IPEndPoint(IPAddress.IPv6Any, 80), new SocketException((int)error));

        Assert.Equal($"The echo listener (Echo:Port) cannot bind [::]:80: {advice}.", failure.Message);
        Assert.Contains("address already in use", new BindFailure(listener, new IPEndPoint(IPAddress.Any, 80), new AddressInUseException("in use")).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("5", "Echo:IdleTimeout is '5': a bare number has no unit; write 5s or 00:00:05; 00:00:00 disables it.")]
    [InlineData("soon", "Echo:IdleTimeout is 'soon': expected a number with a unit (250ms, 5s, 2m, 1h) or hh:mm:ss (00:00:05); 00:00:00 disables it.")]
    public async Task A_duration_without_a_unit_or_form_is_refused_showing_both_forms(string value, string expected)
    {
        using var host = HostProcess.StartOnEphemeralPorts([$"--Echo:IdleTimeout={value}"]);

        Assert.Equal(2, await host.WaitForExitAsync());
        Assert.Equal($"EchoHost cannot start. Invalid configuration: {expected}", Assert.Single(host.StandardError));
    }

    [Fact]
    public async Task Durations_with_units_are_taken_everywhere()
    {
        using var host = HostProcess.StartOnEphemeralPorts(["--Echo:IdleTimeout=90s", "--Echo:WriteTimeout=250ms", "--HostOptions:ShutdownTimeout=2s", "--Echo:ProxyProtocolTimeout=1m"]);

        var line = await host.WaitForOutputAsync(l => l.Contains("Echo listener: mode", StringComparison.Ordinal));
        Assert.Contains("idle timeout 00:01:30, write timeout 00:00:00.2500000", line, StringComparison.Ordinal);
        host.Signal("TERM");
        Assert.Equal(0, await host.WaitForExitAsync());
    }

    [Theory]
    [InlineData("prob", "EchoHost: 'prob' is not a verb; did you mean 'probe'?")]
    [InlineData("serve", "EchoHost: 'serve' is neither the 'probe' verb nor a setting; settings are written --Section:Key=value (--Echo:Port=9000).")]
    [InlineData("--prot", "EchoHost: '--prot' is not an option or a setting; settings are written --Section:Key=value (--Echo:Port=9000).")]
    public async Task What_is_neither_a_verb_nor_a_setting_is_refused_with_exit_2(string argument, string expected)
    {
        using var host = HostProcess.Start([argument, "9000"]);

        Assert.Equal(2, await host.WaitForExitAsync());
        Assert.Equal(expected, host.StandardError.First());
        Assert.Empty(host.StandardOutput);
    }

    [Fact]
    public async Task Help_lists_the_settings_the_probe_verb_and_the_exit_codes_and_starts_nothing()
    {
        using var host = HostProcess.Start(["--help"]);

        Assert.Equal(0, await host.WaitForExitAsync());
        var help = string.Join("\n", host.StandardOutput);
        Assert.Contains("--Echo:Port=8888", help, StringComparison.Ordinal);
        Assert.Contains("probe", help, StringComparison.Ordinal);
        Assert.Contains("Exit codes: 0 stopped gracefully, 1 a listener cannot bind, 2 invalid settings or command line.", help, StringComparison.Ordinal);
        Assert.DoesNotContain("listener serving", help, StringComparison.Ordinal);
        Assert.Contains("EchoHost probe [--Section:Key=value ...]", help, StringComparison.Ordinal);
        Assert.DoesNotContain("additional arguments", help, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("the application that is being run", help, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Version_prints_the_product_version()
    {
        using var host = HostProcess.Start(["--version"]);

        Assert.Equal(0, await host.WaitForExitAsync());
        Assert.Equal("1.0.0", Assert.Single(host.StandardOutput));
    }

    [Fact]
    public async Task The_start_up_log_says_what_the_echo_listener_will_do()
    {
        using var host = HostProcess.StartOnEphemeralPorts(["--Echo:Mode=Receive", "--Echo:CloseAfterReply=true", "--Echo:Framing=Chunk", "--Echo:ReplyPrefix=> "]);

        var line = await host.WaitForOutputAsync(l => l.Contains("Echo listener: mode", StringComparison.Ordinal));

        Assert.EndsWith(
            "Echo listener: mode Receive, one message per read, reply prefix '> ', close after reply: yes, at most 10000 connections, idle timeout 00:05:00, write timeout 00:01:00, PROXY protocol Off, TLS off",
            line,
            StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_probe_names_the_address_it_could_not_reach()
    {
        using var probe = HostProcess.Start(["probe", "--Echo:Port=1", "--Health:Port=2"]);

        Assert.Equal(1, await probe.WaitForExitAsync());
        Assert.StartsWith("unhealthy: http://127.0.0.1:2/healthz: ", Assert.Single(probe.StandardOutput), StringComparison.Ordinal);
    }
}
