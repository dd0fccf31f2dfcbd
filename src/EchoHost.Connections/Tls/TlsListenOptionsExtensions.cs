using System.IO.Pipelines;
using System.Net.Security;
using System.Security.Authentication;
using EchoHost.Connections.Diagnostics;
using EchoHost.Connections.Logging;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EchoHost.Connections.Tls;

public static class TlsListenOptionsExtensions
{
    /// <summary>
    /// TLS 1.2 or 1.3 with Kestrel's own <c>UseHttps</c>, serving whatever <paramref name="certificate"/> holds
    /// when each handshake starts. A connection whose handshake fails is closed, logged at Information and
    /// counted as a <see cref="RejectionReasons.TlsHandshake"/> rejection. The handshake runs on the thread pool
    /// (<see cref="HandshakeInput"/>); the connection's traffic after it runs where the transport delivers it.
    /// </summary>
    public static ListenOptions UseTls(this ListenOptions listen, ReloadingCertificate certificate, ConnectionMetrics? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(listen);
        ArgumentNullException.ThrowIfNull(certificate);
        var logger = listen.ApplicationServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(TlsListenOptionsExtensions).FullName!);

        // Kestrel's middleware returns without calling the next one when a handshake fails; the two around it
        // tell that case apart from a connection that got through, and keep the handshake off the I/O thread.
        listen.Use(next => async connection =>
        {
            var input = new HandshakeInput(connection.Transport.Input);
            var handshake = new HandshakeCompletion(input);
            connection.Features.Set(handshake);
            connection.Transport = new HandshakeTransport(input, connection.Transport.Output);
            await next(connection);
            if (!handshake.Completed)
            {
                metrics?.Rejected(RejectionReasons.TlsHandshake);
                if (logger.IsEnabled(LogLevel.Information))
                {
                    var peer = PeerAddress.Format(connection.RemoteEndPoint);
                    TlsLog.HandshakeFailed(logger, peer);
                }
            }
        });
        listen.UseHttps(new TlsHandshakeCallbackOptions
        {
            OnConnection = _ => ValueTask.FromResult(new SslServerAuthenticationOptions
            {
                ServerCertificateContext = certificate.Current,
                EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
            }),
        });
        listen.Use(next => connection =>
        {
            connection.Features.Get<HandshakeCompletion>()!.Complete();
            return next(connection);
        });
        return listen;
    }

    private sealed class HandshakeCompletion(HandshakeInput input)
    {
        public bool Completed { get; private set; }

        public void Complete()
        {
            Completed = true;
            input.HandshakeEnded();
        }
    }

    private sealed class HandshakeTransport(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}
