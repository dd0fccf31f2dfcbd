using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace EchoHost.Tests.Support;

/// <summary>
/// Self-signed certificates written as PEM files into a temporary folder laid out the way Kubernetes mounts a
/// TLS Secret: <c>tls.crt</c> and <c>tls.key</c> are links through a <c>..data</c> link to a timestamped folder,
/// and an update swaps <c>..data</c> atomically.
/// </summary>
internal sealed partial class TestCertificates : IDisposable
{
    private int _version;

    public TestCertificates() => Directory.CreateDirectory(Folder);

    public string Folder { get; } = Path.Combine(Path.GetTempPath(), "echohost-tls-" + Guid.NewGuid().ToString("N"));

    public string CertificatePath => Path.Combine(Folder, "tls.crt");

    public string KeyPath => Path.Combine(Folder, "tls.key");

    public static (string Certificate, string Key) CreatePem(string commonName)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={commonName}", key, HashAlgorithmName.SHA256);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        return (certificate.ExportCertificatePem(), key.ExportPkcs8PrivateKeyPem());
    }

    /// <summary>Publishes a new certificate the way the kubelet updates a Secret volume.</summary>
    public void Publish(string commonName) => Publish(CreatePem(commonName));

    public void Publish((string Certificate, string Key) pem)
    {
        var version = $"..v{++_version}";
        Directory.CreateDirectory(Path.Combine(Folder, version));
        File.WriteAllText(Path.Combine(Folder, version, "tls.crt"), pem.Certificate);
        File.WriteAllText(Path.Combine(Folder, version, "tls.key"), pem.Key);

        var staging = Path.Combine(Folder, "..data_tmp");
        File.CreateSymbolicLink(staging, version);
        if (Rename(staging, Path.Combine(Folder, "..data")) != 0)
        {
            throw new IOException($"rename(2) of {staging} failed: errno {Marshal.GetLastPInvokeError()}");
        }

        foreach (var name in new[] { "tls.crt", "tls.key" })
        {
            if (!File.Exists(Path.Combine(Folder, name)))
            {
                File.CreateSymbolicLink(Path.Combine(Folder, name), Path.Combine("..data", name));
            }
        }
    }

    public void Dispose() => Directory.Delete(Folder, recursive: true);

    // File.Move follows the link and finds a folder; the kubelet swaps the link itself with rename(2).
    [DllImport("libc", EntryPoint = "rename", SetLastError = true)]
    private static extern int Rename([MarshalAs(UnmanagedType.LPUTF8Str)] string oldPath, [MarshalAs(UnmanagedType.LPUTF8Str)] string newPath);
}
