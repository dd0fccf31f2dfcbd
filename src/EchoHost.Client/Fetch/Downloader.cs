using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;

namespace EchoHost.Client.Fetch;

/// <summary>
/// Streams one URL to a file. The body goes into a <see cref="PartialDownload"/>, which takes the final name only
/// once it is whole (and matches its checksum, when one was given). A body that breaks off is resumed with a range
/// request, within the same retry budget as a failed request, when the server gave a validator; a partial file
/// that can be resumed is kept for <c>--continue</c> when the budget runs out, and deleted otherwise.
/// </summary>
/// <param name="limits">How long to wait for bytes, and for the whole download; the connect timeout is the handler's.</param>
/// <param name="clock">What those two limits count on.</param>
internal sealed class Downloader(HttpClient http, DownloadFolder folder, FetchTimeouts limits, TimeProvider clock, int retries, ExistingFiles existing)
{
    private const int BufferBytes = 64 * 1024;

    /// <param name="onBytes">Called with each chunk's size and, first, with the expected total when known.</param>
    public async Task<DownloadResult> DownloadAsync(FetchJob job, Action<long, long?> onBytes, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var final = folder.FullPath(job.FileName);
        int? status = null;
        long bytes = 0;
        long? resumedFrom = null;
        DownloadResult Result(string outcome, string? error = null) => new(
            job.Url.AbsoluteUri, outcome, status, bytes, Math.Round(Stopwatch.GetElapsedTime(started).TotalSeconds, 3),
            error is null ? folder.AsWritten(job.FileName) : null, resumedFrom, error);

        if (existing != ExistingFiles.Overwrite && File.Exists(final))
        {
            return Result(DownloadOutcomes.Exists);
        }

        var partial = new PartialDownload(folder.FullName, job.FileName);
        var mayResume = existing == ExistingFiles.Continue;
        if (!mayResume)
        {
            partial.DiscardLeftovers();
        }

        using var maxTime = new CancellationTokenSource(limits.MaxTime ?? Timeout.InfiniteTimeSpan, clock);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, maxTime.Token);

        var resumable = false;
        var buffer = ArrayPool<byte>.Shared.Rent(BufferBytes);
        try
        {
            for (var breaks = 0; ; breaks++)
            {
                var condition = mayResume ? partial.ResumeCondition() : null;
                using var request = new HttpRequestMessage(HttpMethod.Get, job.Url);
                if (condition is not null)
                {
                    request.Headers.Range = new RangeHeaderValue(partial.Length, null);
                    request.Headers.IfRange = condition;
                }

                // The wait for headers is bounded per attempt by the retry pipeline; the body's by this timer, re-armed
                // by every read that brings bytes, so a slow download goes on for as long as data flows.
                using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, deadline.Token);
                using var idle = new CancellationTokenSource(limits.Idle, clock);
                using var flowing = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, idle.Token);
                status = (int)response.StatusCode;
                if (!response.IsSuccessStatusCode && !(response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable && condition is not null))
                {
                    return Fail($"HTTP {status} {response.ReasonPhrase}".TrimEnd());
                }

                // A 206 from where we stopped continues the file, and a 200 (the range was ignored, or the file
                // changed) replaces it. A 416 or a 206 from anywhere else means the part we hold is not what the
                // server has now: it is dropped, and the next request asks for the whole body.
                long offset = 0;
                if (response.StatusCode is HttpStatusCode.PartialContent or HttpStatusCode.RequestedRangeNotSatisfiable)
                {
                    if (condition is null || response.Content.Headers.ContentRange?.From != partial.Length)
                    {
                        partial.Discard();
                        if (breaks < Math.Max(retries, 1))
                        {
                            continue;
                        }

                        return Fail($"the server answered HTTP {status} with a range that does not fit what is on disk");
                    }

                    offset = partial.Length;
                }

                resumedFrom = offset > 0 ? offset : resumedFrom;
                resumable = partial.Remember(response);
                onBytes(0, response.Content.Headers.ContentLength);
                try
                {
                    await using var body = await response.Content.ReadAsStreamAsync(flowing.Token);
                    using var file = partial.Open(offset);
                    var position = offset;
                    int read;
                    while ((read = await body.ReadAsync(buffer.AsMemory(0, BufferBytes), flowing.Token)) > 0)
                    {
                        idle.CancelAfter(limits.Idle);
                        // A write into the page cache takes microseconds: doing it in place costs less than handing
                        // it to the thread pool, and a bare handle saves FileStream's own calls per file.
                        RandomAccess.Write(file, buffer.AsSpan(0, read), position);
                        position += read;
                        bytes += read;
                        onBytes(read, null);
                    }
                }
                catch (Exception ex) when (ex is IOException or HttpRequestException && resumable && breaks < retries)
                {
                    mayResume = true;
                    continue;
                }
                catch (OperationCanceledException) when (IsStall() && resumable && breaks < retries)
                {
                    // A body that stopped flowing is a break like a reset one: ask again for the rest.
                    mayResume = true;
                    continue;
                }

                break;
            }

            if (job.Sha256 is { } expected && await Sha256Async(partial.Path, deadline.Token) is var actual && !actual.AsSpan().SequenceEqual(expected))
            {
                partial.Discard();
                return Result(DownloadOutcomes.Failed, $"checksum mismatch: expected sha256:{Convert.ToHexStringLower(expected)}, got sha256:{Convert.ToHexStringLower(actual)}; the file was not kept");
            }

            if (!partial.Complete(final, existing == ExistingFiles.Overwrite))
            {
                partial.Discard();
                return Result(DownloadOutcomes.Exists);
            }

            return Result(resumedFrom is null ? DownloadOutcomes.Downloaded : DownloadOutcomes.Resumed);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Abandon();
            throw;
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            return Fail($"not finished within --max-time {Seconds(limits.MaxTime!.Value)}");
        }
        catch (OperationCanceledException)
        {
            return Fail($"no data for {Seconds(limits.Idle)} (--idle-timeout) after {bytes} bytes");
        }
        catch (HttpRequestException ex)
        {
            return Fail(Describe(ex));
        }
        catch (Polly.Timeout.TimeoutRejectedException)
        {
            return Fail($"no response within {Seconds(limits.Idle)} (--idle-timeout){(retries > 0 ? ", on every attempt" : "")}");
        }
        catch (IOException ex)
        {
            return Fail($"the download broke off after {bytes} bytes: {ex.Message}");
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        static string Seconds(TimeSpan time) => $"{time.TotalSeconds:0.###} s";

        bool IsStall() => !deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested;

        DownloadResult Fail(string error)
        {
            Abandon();
            return Result(DownloadOutcomes.Failed, resumable && partial.Length > 0 ? $"{error}; {partial.Length} bytes kept: --continue resumes" : error);
        }

        // What can be resumed is kept for --continue; what cannot is of no use to anyone.
        void Abandon()
        {
            if (!resumable || partial.Length == 0)
            {
                partial.Discard();
            }
        }
    }

    private static async Task<byte[]> Sha256Async(string path, CancellationToken cancellationToken)
    {
        await using var file = File.OpenRead(path);
        return await SHA256.HashDataAsync(file, cancellationToken);
    }

    private static string Describe(HttpRequestException ex) => ex.HttpRequestError switch
    {
        HttpRequestError.NameResolutionError => "the host name does not resolve",
        HttpRequestError.ConnectionError => $"cannot connect: {ex.InnerException?.Message ?? ex.Message}",
        HttpRequestError.ResponseEnded => "the server closed the connection before the response was complete",
        _ => ex.Message,
    };
}
