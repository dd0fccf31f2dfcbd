using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace EchoHost.Connections.Tls;

/// <summary>Turns the bytes of a certificate and key into what <see cref="SslStream"/> serves, chain included.</summary>
internal static class CertificateLoader
{
    /// <exception cref="CryptographicException">The files are not a certificate with its matching private key.</exception>
    public static SslStreamCertificateContext Load(byte[] certificate, byte[]? key, string? password)
    {
        var text = Encoding.ASCII.GetString(certificate);
        return text.Contains("-----BEGIN", StringComparison.Ordinal)
            ? FromPem(text, key is null ? text : Encoding.ASCII.GetString(key), password)
            : FromPkcs12(certificate, password);
    }

    private static SslStreamCertificateContext FromPem(string certificatePem, string keyPem, string? password)
    {
        var leaf = string.IsNullOrEmpty(password)
            ? X509Certificate2.CreateFromPem(certificatePem, keyPem)
            : X509Certificate2.CreateFromEncryptedPem(certificatePem, keyPem, password);
        var chain = new X509Certificate2Collection();
        chain.ImportFromPem(certificatePem);
        var intermediates = new X509Certificate2Collection(chain.Skip(1).ToArray());
        return SslStreamCertificateContext.Create(leaf, intermediates, offline: true);
    }

    private static SslStreamCertificateContext FromPkcs12(byte[] pfx, string? password)
    {
        var all = X509CertificateLoader.LoadPkcs12Collection(pfx, password);
        var leaf = all.FirstOrDefault(c => c.HasPrivateKey)
            ?? throw new CryptographicException("The PFX file holds no certificate with a private key.");
        var intermediates = new X509Certificate2Collection(all.Where(c => !ReferenceEquals(c, leaf)).ToArray());
        return SslStreamCertificateContext.Create(leaf, intermediates, offline: true);
    }
}
