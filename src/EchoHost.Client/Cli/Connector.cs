using System.Net.Sockets;

namespace EchoHost.Client.Cli;

internal static class Connector
{
    /// <summary>Opens a TCP connection, turning every way that can fail into one plain sentence.</summary>
    /// <exception cref="ClientException">Refused, unresolvable, unreachable, or no answer in time.</exception>
    public static async Task<Socket> ConnectAsync(string host, int port, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(host, port, deadline.Token);
            return socket;
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException)
        {
            socket.Dispose();
            cancellationToken.ThrowIfCancellationRequested();
            throw new ClientException($"cannot connect to {host}:{port}: {Describe(ex, timeout)}");
        }
    }

    public static string Describe(Exception ex, TimeSpan timeout) => ex switch
    {
        SocketException { SocketErrorCode: SocketError.ConnectionRefused } => "connection refused (is the server running?)",
        SocketException { SocketErrorCode: SocketError.HostNotFound or SocketError.TryAgain or SocketError.NoData } => "the host name does not resolve",
        SocketException { SocketErrorCode: SocketError.NetworkUnreachable or SocketError.HostUnreachable } => "the host is unreachable",
        SocketException { SocketErrorCode: SocketError.ConnectionReset } => "the server reset the connection",
        OperationCanceledException => $"no answer within {timeout.TotalSeconds:0.###} s",
        _ => ex.Message,
    };
}
