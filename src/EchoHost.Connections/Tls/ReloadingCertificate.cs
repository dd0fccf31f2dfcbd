using System.Net.Security;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;

namespace EchoHost.Connections.Tls;

/// <summary>
/// The server certificate, read from its files at start and read again every <see cref="PollInterval"/>: when
/// their bytes change, new connections get the new certificate; open ones keep theirs. Comparing contents
/// rather than watching for file events catches every way a file is replaced, including Kubernetes' swap of
/// a Secret volume's <c>..data</c> symlink. A change that does not load keeps the old certificate, with one
/// warning per bad version of the files.
/// </summary>
public sealed class ReloadingCertificate : IDisposable
{
    public static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(5);

    private readonly CertificateFiles _files;
    private readonly ILogger _logger;
    private readonly ITimer _timer;
    private byte[] _loadedHash;
    private byte[]? _rejectedHash;

    /// <exception cref="CertificateLoadException">The files cannot be read, or are not a certificate and its key.</exception>
    public ReloadingCertificate(CertificateFiles files, TimeProvider time, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(files);
        ArgumentNullException.ThrowIfNull(time);
        _files = files;
        _logger = logger;
        var (certificate, key, hash) = ReadFiles();
        Current = LoadOrThrow(certificate, key);
        _loadedHash = hash;
        _timer = time.CreateTimer(static state => ((ReloadingCertificate)state!).Poll(), this, PollInterval, PollInterval);
    }

    /// <summary>The certificate a new connection is served.</summary>
    public SslStreamCertificateContext Current { get; private set; }

    public void Dispose() => _timer.Dispose();

    private void Poll()
    {
        byte[] certificate, hash;
        byte[]? key;
        try
        {
            (certificate, key, hash) = ReadFiles();
        }
        catch (CertificateLoadException ex)
        {
            Reject(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(ex.Message)), ex.Message);
            return;
        }

        if (hash.AsSpan().SequenceEqual(_loadedHash) || (_rejectedHash is not null && hash.AsSpan().SequenceEqual(_rejectedHash)))
        {
            return;
        }

        try
        {
            Current = LoadOrThrow(certificate, key);
            _loadedHash = hash;
            _rejectedHash = null;
            TlsLog.CertificateReloaded(_logger, _files.Path, Current.TargetCertificate.Subject, Current.TargetCertificate.NotAfter);
        }
        catch (CertificateLoadException ex)
        {
            Reject(hash, ex.Message);
        }
    }

    private void Reject(byte[] hash, string reason)
    {
        if (_rejectedHash is null || !hash.AsSpan().SequenceEqual(_rejectedHash))
        {
            _rejectedHash = hash;
            TlsLog.ReloadFailed(_logger, reason);
        }
    }

    private (byte[] Certificate, byte[]? Key, byte[] Hash) ReadFiles()
    {
        var certificate = Read(_files.Path, "certificate");
        var key = _files.KeyPath is null ? null : Read(_files.KeyPath, "key");
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(certificate);
        hash.AppendData(key ?? []);
        return (certificate, key, hash.GetHashAndReset());
    }

    private static byte[] Read(string path, string what)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // `dotnet run --project` starts the host in the project's folder, so a path typed relative to the repository misses.
            var relative = ex is FileNotFoundException or DirectoryNotFoundException && !System.IO.Path.IsPathRooted(path)
                ? $" (a relative path is taken from the working directory, {Environment.CurrentDirectory}; give an absolute one, e.g. \"$PWD/{path}\")"
                : "";
            throw new CertificateLoadException($"the {what} file '{path}' cannot be read: {ex.Message.TrimEnd('.')}{relative}", ex);
        }
    }

    private SslStreamCertificateContext LoadOrThrow(byte[] certificate, byte[]? key)
    {
        try
        {
            return CertificateLoader.Load(certificate, key, _files.Password);
        }
        catch (Exception ex) when (ex is CryptographicException or ArgumentException)
        {
            var files = _files.KeyPath is null ? $"'{_files.Path}'" : $"'{_files.Path}' with the key '{_files.KeyPath}'";
            throw new CertificateLoadException($"{files} is not a usable certificate and private key: {ex.Message}", ex);
        }
    }
}
