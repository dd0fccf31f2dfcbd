namespace EchoHost.Client.Fetch;

/// <param name="Outcome"><c>downloaded</c>, <c>resumed</c> (a partial file from an earlier attempt was continued),
/// <c>exists</c> (the file was there already and left alone) or <c>failed</c>.</param>
/// <param name="Status">The HTTP status code of the last response, when the server answered.</param>
/// <param name="Bytes">Bytes received in this run.</param>
/// <param name="File">The file's path as the command line named its folder, for every outcome but failed.</param>
/// <param name="ResumedFrom">Where the body was resumed from, when it was.</param>
/// <param name="Error">Why it failed; null when it did not.</param>
public sealed record DownloadResult(string Url, string Outcome, int? Status, long Bytes, double Seconds, string? File, long? ResumedFrom, string? Error)
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

public static class DownloadOutcomes
{
    public const string Downloaded = "downloaded";
    public const string Resumed = "resumed";
    public const string Exists = "exists";
    public const string Failed = "failed";
}
