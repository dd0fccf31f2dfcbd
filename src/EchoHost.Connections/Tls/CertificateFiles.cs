namespace EchoHost.Connections.Tls;

/// <summary>
/// Where a server certificate lives, in the shape of Kestrel's endpoint certificate settings: a PEM certificate
/// (or chain) with its key in <see cref="KeyPath"/> or in the same file, or a PFX file.
/// </summary>
/// <param name="Path">The PEM certificate or chain, or the PFX file.</param>
/// <param name="KeyPath">The PEM private key; <see langword="null"/> when it is in <paramref name="Path"/>.</param>
/// <param name="Password">The PFX password, or the password of an encrypted PEM key.</param>
public sealed record CertificateFiles(string Path, string? KeyPath, string? Password);
