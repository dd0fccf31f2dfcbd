namespace EchoHost.Connections.Tls;

/// <summary>A certificate or key file that cannot be read or used; the message names the file and the cause.</summary>
public sealed class CertificateLoadException(string message, Exception inner) : Exception(message, inner);
