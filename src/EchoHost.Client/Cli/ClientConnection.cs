using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;

namespace EchoHost.Client.Cli;

/// <summary>An open connection to the server, plain or TLS, with a half-close that suits each.</summary>
internal sealed class ClientConnection(Socket socket, Stream stream) : IAsyncDisposable
{
    public Stream Stream { get; } = stream;

    /// <exception cref="ClientException">The connection or the TLS handshake failed.</exception>
    public static async Task<ClientConnection> OpenAsync(
        string host, int port, bool tls, bool insecure, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var socket = await Connector.ConnectAsync(host, port, timeout, cancellationToken);
        var network = new NetworkStream(socket, ownsSocket: true);
        if (!tls)
        {
            return new ClientConnection(socket, network);
        }

        var secure = new SslStream(network, leaveInnerStreamOpen: false);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            await secure.AuthenticateAsClientAsync(
                new SslClientAuthenticationOptions
                {
                    TargetHost = host,
                    RemoteCertificateValidationCallback = insecure ? AcceptAny : null,
                },
                deadline.Token);
            return new ClientConnection(socket, secure);
        }
        catch (Exception ex) when (ex is AuthenticationException or IOException or OperationCanceledException)
        {
            await secure.DisposeAsync();
            cancellationToken.ThrowIfCancellationRequested();
            var hint = ex is AuthenticationException && !insecure ? " (add --insecure for a self-signed certificate)" : string.Empty;
            throw new ClientException($"the TLS handshake with {host}:{port} failed: {Connector.Describe(ex.InnerException ?? ex, timeout)}{hint}");
        }
    }

    /// <summary>No more data from this side (TLS close_notify, then FIN); replies are still read.</summary>
    public async Task HalfCloseAsync()
    {
        if (Stream is SslStream secure)
        {
            await secure.ShutdownAsync();
        }

        socket.Shutdown(SocketShutdown.Send);
    }

    public ValueTask DisposeAsync() => Stream.DisposeAsync();

    private static bool AcceptAny(object sender, System.Security.Cryptography.X509Certificates.X509Certificate? certificate, System.Security.Cryptography.X509Certificates.X509Chain? chain, SslPolicyErrors errors) =>
        certificate is not null;
}
