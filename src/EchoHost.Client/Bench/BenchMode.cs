namespace EchoHost.Client.Bench;

public enum BenchMode
{
    /// <summary>Each connection sends one message and waits for its reply: requests/s and latency.</summary>
    PingPong,

    /// <summary>Each connection sends without waiting and checks the replies as they come: MB/s.</summary>
    Stream,

    /// <summary>Connect, one message and reply, close, again: connections/s.</summary>
    Churn,
}
