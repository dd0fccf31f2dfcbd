using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace EchoHost.Client.Cli;

/// <summary>An open connection to the server, plain or TLS, with a half-close that suits each.</summary>
internal sealed class ClientConnection(Socket socket, Stream stream) : IAsyncDisposable
{
    public Stream Stream { get; } = stream;

    /// <exception cref="ClientException">The connection or the TLS handshake failed.</exception>
    public static async Task<ClientConnection> OpenAsync(
        string host, int port, ClientTls? tls, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var socket = await Connector.ConnectAsync(host, port, timeout, cancellationToken);
        var network = new NetworkStream(socket, ownsSocket: true);
        if (tls is null)
        {
            return new ClientConnection(socket, network);
        }

        var secure = new TlsClientStream(network);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            await secure.Tls.AuthenticateAsClientAsync(
                new SslClientAuthenticationOptions
                {
                    TargetHost = host,
                    RemoteCertificateValidationCallback = tls.Insecure ? AcceptAny : null,
                    CertificateChainPolicy = tls.TrustedRoots is { } roots ? TrustOnly(roots) : null,
                },
                deadline.Token);
            return new ClientConnection(socket, secure);
        }
        catch (Exception ex) when (ex is AuthenticationException or IOException or OperationCanceledException)
        {
            await secure.DisposeAsync();
            cancellationToken.ThrowIfCancellationRequested();
            var hint = ex is not AuthenticationException || tls.Insecure ? string.Empty
                : tls.TrustedRoots is null ? " (add --cacert FILE to trust its issuer, or --insecure for any certificate)"
                : " (--cacert must hold its issuer, and the certificate must name the --host given)";
            throw new ClientException($"the TLS handshake with {host}:{port} failed: {Connector.Describe(ex.InnerException ?? ex, timeout)}{hint}");
        }
    }

    /// <summary>No more data from this side (TLS close_notify, then FIN); replies are still read.</summary>
    public async Task HalfCloseAsync()
    {
        if (Stream is TlsClientStream secure)
        {
            await secure.ShutdownAsync();
        }

        socket.Shutdown(SocketShutdown.Send);
    }

    public ValueTask DisposeAsync() => Stream.DisposeAsync();

    private static X509ChainPolicy TrustOnly(X509Certificate2Collection roots)
    {
        var policy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
        policy.CustomTrustStore.AddRange(roots);
        return policy;
    }

    private static bool AcceptAny(object sender, System.Security.Cryptography.X509Certificates.X509Certificate? certificate, System.Security.Cryptography.X509Certificates.X509Chain? chain, SslPolicyErrors errors) =>
        certificate is not null;
}
