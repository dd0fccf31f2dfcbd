using System.Globalization;

namespace EchoHost.Client.Fetch;

/// <summary>
/// For a pipe or a file: one line per URL as it ends, starting with its outcome, so <c>grep ^failed</c> finds the
/// failures while the run goes on. Nothing else is written until the summary.
/// </summary>
internal sealed class LineObserver(TextWriter output) : IFetchObserver, IDownloadObserver
{
    private readonly Lock _gate = new();

    public IDownloadObserver Started(FetchJob job) => this;

    public void Received(long chunk, long? total)
    {
    }

    public void Finished(DownloadResult result)
    {
        var line = Describe(result);
        lock (_gate)
        {
            output.WriteLine(line);
        }
    }

    public static string Describe(DownloadResult result) => result.Outcome switch
    {
        DownloadOutcomes.Failed => $"{result.Outcome,-10} {result.Url}: {result.Error}",
        DownloadOutcomes.Exists => $"{result.Outcome,-10} {result.Url} -> {result.File}",
        DownloadOutcomes.Resumed => string.Create(CultureInfo.InvariantCulture, $"{result.Outcome,-10} {result.Url} -> {result.File} (from byte {result.ResumedFrom}; {result.Bytes} bytes in {result.Seconds:0.000} s)"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{result.Outcome,-10} {result.Url} -> {result.File} ({result.Bytes} bytes in {result.Seconds:0.000} s)"),
    };
}
