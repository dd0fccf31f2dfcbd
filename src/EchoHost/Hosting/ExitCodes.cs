namespace EchoHost.Hosting;

public static class ExitCodes
{
    /// <summary>Stopped gracefully (SIGTERM, SIGINT).</summary>
    public const int Stopped = 0;

    /// <summary>A listener cannot bind: its port is in use, its address is not this machine's, ...</summary>
    public const int CannotListen = 1;

    /// <summary>A setting is invalid or unknown.</summary>
    public const int InvalidSettings = 2;
}
