using System.CommandLine;

namespace EchoHost.Client.Cli;

/// <summary><c>--tls</c> and <c>--insecure</c>, for servers whose echo port speaks TLS.</summary>
internal static class TlsOptions
{
    public static Option<bool> Tls() => new("--tls") { Description = "Speak TLS to the server (Echo:Tls:Certificate set there)." };

    public static Option<bool> Insecure() => new("--insecure", "-k")
    {
        Description = "With --tls, accept any server certificate (self-signed, wrong name): for testing only.",
    };
}
