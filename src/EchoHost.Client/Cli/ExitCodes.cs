namespace EchoHost.Client.Cli;

public static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>Something failed: a connection, a reply, a download.</summary>
    public const int Failed = 1;

    /// <summary>The command line is wrong.</summary>
    public const int Usage = 2;

    /// <summary>Stopped by Ctrl+C (128 + SIGINT, as shells report it).</summary>
    public const int Interrupted = 130;
}
