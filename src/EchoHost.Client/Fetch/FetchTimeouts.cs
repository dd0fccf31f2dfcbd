namespace EchoHost.Client.Fetch;

/// <summary>
/// curl's split of a download's time limits: <paramref name="Connect"/> for each TCP (and TLS) connect,
/// <paramref name="Idle"/> for waiting for response headers or the next bytes of a body, and an optional
/// <paramref name="MaxTime"/> for the whole download, retries included. A large file on a slow link thus finishes
/// as long as bytes keep coming.
/// </summary>
internal sealed record FetchTimeouts(TimeSpan Connect, TimeSpan Idle, TimeSpan? MaxTime);
