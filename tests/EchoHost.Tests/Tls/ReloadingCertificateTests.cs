using EchoHost.Connections.Tls;
using EchoHost.Tests.Support;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace EchoHost.Tests.Tls;

public sealed class ReloadingCertificateTests : IDisposable
{
    private readonly TestCertificates _files = new();
    private readonly FakeTimeProvider _time = new();
    private readonly RecordingLogger<ReloadingCertificate> _log = new();

    public ReloadingCertificateTests() => _files.Publish("first");

    [Fact]
    public void A_kubernetes_style_secret_swap_is_served_after_the_next_poll()
    {
        using var certificate = Load();
        Assert.Equal("CN=first", certificate.Current.TargetCertificate.Subject);

        _files.Publish("second");
        Assert.Equal("CN=first", certificate.Current.TargetCertificate.Subject);
        _time.Advance(ReloadingCertificate.PollInterval);

        Assert.Equal("CN=second", certificate.Current.TargetCertificate.Subject);
        Assert.Contains(_log.Entries, e => e.Level == LogLevel.Information && e.Message.Contains("CN=second", StringComparison.Ordinal));
    }

    [Fact]
    public void A_combined_file_replaced_in_place_is_served_after_the_next_poll()
    {
        var path = Path.Combine(_files.Folder, "combined.pem");
        File.WriteAllText(path, Combined("before"));
        using var certificate = new ReloadingCertificate(new CertificateFiles(path, null, null), _time, _log);
        Assert.Equal("CN=before", certificate.Current.TargetCertificate.Subject);

        File.WriteAllText(path, Combined("after"));
        _time.Advance(ReloadingCertificate.PollInterval);

        Assert.Equal("CN=after", certificate.Current.TargetCertificate.Subject);
    }

    [Fact]
    public void A_bad_update_keeps_the_old_certificate_with_one_warning_then_a_good_one_is_taken()
    {
        using var certificate = Load();

        // A key that belongs to another certificate.
        _files.Publish((TestCertificates.CreatePem("mismatched").Certificate, TestCertificates.CreatePem("other").Key));
        for (var i = 0; i < 3; i++)
        {
            _time.Advance(ReloadingCertificate.PollInterval);
        }

        Assert.Equal("CN=first", certificate.Current.TargetCertificate.Subject);
        Assert.Single(_log.Entries, e => e.Level == LogLevel.Warning);

        _files.Publish("third");
        _time.Advance(ReloadingCertificate.PollInterval);
        Assert.Equal("CN=third", certificate.Current.TargetCertificate.Subject);
    }

    [Fact]
    public void A_missing_file_at_start_names_the_file()
    {
        var missing = new CertificateFiles(Path.Combine(_files.Folder, "nope.crt"), null, null);

        var error = Assert.Throws<CertificateLoadException>(() => new ReloadingCertificate(missing, _time, _log));
        Assert.Contains("nope.crt", error.Message, StringComparison.Ordinal);
    }

    public void Dispose() => _files.Dispose();

    private static string Combined(string commonName)
    {
        var (certificate, key) = TestCertificates.CreatePem(commonName);
        return certificate + "\n" + key;
    }

    private ReloadingCertificate Load() => new(new CertificateFiles(_files.CertificatePath, _files.KeyPath, null), _time, _log);
}
