using System.CommandLine;
using System.CommandLine.Parsing;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace EchoHost.Client.Cli;

/// <summary><c>--tls</c>, <c>--insecure</c> and <c>--cacert</c>, for servers whose echo port speaks TLS.</summary>
internal sealed class TlsOptions
{
    private readonly Option<bool> _tls = new("--tls") { Description = "Speak TLS to the server (Echo:Tls:Certificate set there)." };

    private readonly Option<bool> _insecure = new("--insecure", "-k")
    {
        Description = "With --tls, accept any server certificate (self-signed, wrong name): for testing only.",
    };

    private readonly Option<X509Certificate2Collection?> _cacert = new("--cacert")
    {
        Description = "With --tls, trust a server certificate issued by one in this PEM file (a private CA, or a self-signed certificate itself), as curl's --cacert.",
        HelpName = "file",
        CustomParser = ReadCertificates,
    };

    public IEnumerable<Option> All => [_tls, _insecure, _cacert];

    /// <summary>Whether the command line asks for TLS; valid only once it parsed.</summary>
    public bool IsOn(ParseResult parse) => parse.GetValue(_tls);

    public bool IsOn(CommandResult result) => result.GetValue(_tls);

    /// <summary>Reports options that do not go together.</summary>
    public void Validate(CommandResult result)
    {
        var tls = result.GetValue(_tls);
        if (result.GetResult(_cacert) is { Implicit: false } && !tls)
        {
            result.AddError("--cacert is for --tls.");
        }

        if (result.GetResult(_cacert) is { Implicit: false } && result.GetValue(_insecure))
        {
            result.AddError("--cacert trusts one issuer and --insecure trusts any: choose one.");
        }
    }

    /// <summary>How to speak TLS to the server, or null for plain TCP.</summary>
    public ClientTls? From(ParseResult parse) =>
        parse.GetValue(_tls) ? new ClientTls(parse.GetValue(_insecure), parse.GetValue(_cacert)) : null;

    private static X509Certificate2Collection? ReadCertificates(ArgumentResult result)
    {
        var path = result.Tokens.Count == 1 ? result.Tokens[0].Value : string.Empty;
        var certificates = new X509Certificate2Collection();
        try
        {
            certificates.ImportFromPemFile(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException)
        {
            result.AddError($"--cacert is '{path}': {ex.Message.TrimEnd('.')}.");
            return null;
        }

        if (certificates.Count == 0)
        {
            result.AddError($"--cacert is '{path}': the file holds no PEM certificate (-----BEGIN CERTIFICATE-----).");
            return null;
        }

        return certificates;
    }
}
