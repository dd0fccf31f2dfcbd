using System.Security.Cryptography.X509Certificates;

namespace EchoHost.Client.Cli;

/// <param name="Insecure">Accept any server certificate.</param>
/// <param name="TrustedRoots">Trust only certificates that chain to one of these (--cacert); null for the system's.</param>
public sealed record ClientTls(bool Insecure, X509Certificate2Collection? TrustedRoots);
