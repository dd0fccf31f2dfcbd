namespace EchoHost.Hosting;

public static class ExitCodes
{
    /// <summary>Stopped gracefully (SIGTERM, SIGINT).</summary>
    public const int Stopped = 0;

    /// <summary>A listener's address is already in use.</summary>
    public const int CannotListen = 1;

    /// <summary>A setting is invalid or unknown.</summary>
    public const int InvalidSettings = 2;
}
