using System.Net;
using System.Net.Sockets;
using EchoHost.Tests.Support;

namespace EchoHost.Tests.Hardening;

public sealed class StartupErrorTests
{
    [Theory]
    [InlineData("Echo:Port", "The echo listener (Echo:Port)")]
    [InlineData("Health:Port", "The health listener (Health:Port)")]
    public async Task A_port_in_use_exits_1_with_one_line_naming_the_listener_address_and_port(string key, string listener)
    {
        using var occupier = new TcpListener(IPAddress.IPv6Any, 0);
        occupier.Server.DualMode = true;
        occupier.Start();
        var port = ((IPEndPoint)occupier.LocalEndpoint).Port;

        using var host = HostProcess.StartOnEphemeralPorts([$"--{key}={port}"]);

        Assert.Equal(1, await host.WaitForExitAsync());
        var message = Assert.Single(host.StandardError);
        Assert.Equal($"EchoHost cannot start. {listener} cannot bind [::]:{port}: address already in use; stop what uses it, or choose another port with --{key}=PORT.", message);
        Assert.DoesNotContain(host.StandardOutput, line => line.Contains(" at ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_certificate_that_cannot_be_read_exits_2_with_one_line_naming_the_setting_and_the_file()
    {
        var missing = Path.Combine(Path.GetTempPath(), "echohost-no-such-cert.pem");

        using var host = HostProcess.StartOnEphemeralPorts([$"--Echo:Tls:Certificate:Path={missing}"]);

        Assert.Equal(2, await host.WaitForExitAsync());
        var message = Assert.Single(host.StandardError);
        Assert.StartsWith("EchoHost cannot start. Invalid configuration: Echo:Tls:Certificate: ", message, StringComparison.Ordinal);
        Assert.Contains(missing, message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_relative_certificate_path_that_misses_says_which_working_directory_it_was_taken_from()
    {
        // A name no file in the working directory (the temporary folder) has.
        var relative = $"echohost-missing-{Guid.NewGuid():N}.pem";

        using var host = HostProcess.StartOnEphemeralPorts([$"--Echo:Tls:Certificate:Path={relative}"]);

        Assert.Equal(2, await host.WaitForExitAsync());
        var message = Assert.Single(host.StandardError);
        var workingDirectory = Path.GetTempPath().TrimEnd('/');
        Assert.Contains($"a relative path is taken from the working directory, {workingDirectory}; give an absolute one, e.g. \"$PWD/{relative}\"", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_key_that_does_not_match_the_certificate_exits_2()
    {
        var folder = Directory.CreateTempSubdirectory("echohost-badkey-").FullName;
        File.WriteAllText(Path.Combine(folder, "c.pem"), TestCertificates.CreatePem("one").Certificate);
        File.WriteAllText(Path.Combine(folder, "k.pem"), TestCertificates.CreatePem("two").Key);

        using var host = HostProcess.StartOnEphemeralPorts(
            [$"--Echo:Tls:Certificate:Path={folder}/c.pem", $"--Echo:Tls:Certificate:KeyPath={folder}/k.pem"]);

        Assert.Equal(2, await host.WaitForExitAsync());
        Assert.Contains("is not a usable certificate and private key", Assert.Single(host.StandardError), StringComparison.Ordinal);
        Directory.Delete(folder, recursive: true);
    }
}
