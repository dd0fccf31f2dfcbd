namespace EchoHost.Echo;

public enum EchoMode
{
    /// <summary>Reply with the prefix and the message.</summary>
    Echo,

    /// <summary>Log each message and never write.</summary>
    Receive,
}
