namespace EchoHost.Client.Fetch;

/// <param name="Status">The HTTP status code, when the server answered.</param>
/// <param name="File">The file written, only for a complete download.</param>
/// <param name="Error">Why it failed; null when it succeeded.</param>
public sealed record DownloadResult(string Url, int? Status, long Bytes, double Seconds, string? File, string? Error)
{
    public bool Succeeded => Error is null;
}

/// <param name="Mode">concurrent, sequential or compare.</param>
/// <param name="SpeedUp">With compare: the sequential time over the concurrent time.</param>
public sealed record FetchReport(
    string Mode,
    int Concurrency,
    IReadOnlyList<DownloadResult> Downloads,
    double Seconds,
    double? SequentialSeconds,
    double? ConcurrentSeconds,
    double? SpeedUp)
{
    public int Failed => Downloads.Count(d => !d.Succeeded);
}
