using EchoHost.Connections.Tls;
using Microsoft.Extensions.Logging;

namespace EchoHost.Echo;

/// <summary>
/// The echo listener's certificate when <c>Echo:Tls:Certificate:Path</c> is set, loaded when this is first
/// resolved, so that a bad file stops the host before it listens.
/// </summary>
public sealed class EchoTls(CertificateFiles? files, TimeProvider time, ILogger<ReloadingCertificate> logger) : IDisposable
{
    public ReloadingCertificate? Certificate { get; } = files is null ? null : new ReloadingCertificate(files, time, logger);

    public void Dispose() => Certificate?.Dispose();
}
