using Microsoft.Extensions.Logging;

namespace EchoHost.Connections.Tls;

internal static partial class TlsLog
{
    [LoggerMessage(EventId = 30, Level = LogLevel.Information, Message = "Reloaded the TLS certificate from {Path}: {Subject}, valid until {NotAfter:u}")]
    public static partial void CertificateReloaded(ILogger logger, string path, string subject, DateTime notAfter);

    [LoggerMessage(EventId = 31, Level = LogLevel.Warning, Message = "Kept the current TLS certificate: {Reason}")]
    public static partial void ReloadFailed(ILogger logger, string reason);

    // A plaintext client or a port scanner on a TLS port is routine, not an alarm.
    [LoggerMessage(EventId = 32, Level = LogLevel.Information, Message = "Closed connection from {Peer}: the TLS handshake did not complete")]
    public static partial void HandshakeFailed(ILogger logger, string peer);
}
