namespace EchoHost.Client.Bench;

public enum BenchMode
{
    /// <summary>Each connection sends one message and waits for its reply: requests/s and latency.</summary>
    PingPong,

    /// <summary>Each connection sends without waiting and checks the replies as they come: MB/s.</summary>
    Stream,

    /// <summary>Connect, one message and reply, close, again: connections/s.</summary>
    Churn,

    /// <summary>Open the connections and hold them, sending nothing: with the server's PID, its memory per connection.</summary>
    Idle,
}
