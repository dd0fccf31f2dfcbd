using System.Buffers;
using System.Diagnostics;

namespace EchoHost.Client.Fetch;

/// <summary>
/// Streams one URL to a file: the body goes through a small buffer into a temporary file, which becomes the
/// real file only once complete, so a failed or cancelled download leaves nothing behind.
/// </summary>
internal sealed class Downloader(HttpClient http, string directory, TimeSpan timeout)
{
    private const int BufferBytes = 64 * 1024;

    /// <param name="onBytes">Called with each chunk's size and, first, with the expected total when known.</param>
    public async Task<DownloadResult> DownloadAsync(Uri url, string fileName, Action<long, long?> onBytes, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var temporary = Path.Combine(directory, $".{fileName}.{Guid.NewGuid():N}.partial");
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        int? status = null;
        long bytes = 0;
        DownloadResult Result(string? file, string? error) =>
            new(url.AbsoluteUri, status, bytes, Math.Round(Stopwatch.GetElapsedTime(started).TotalSeconds, 3), file, error);

        var buffer = ArrayPool<byte>.Shared.Rent(BufferBytes);
        try
        {
            using var response = await http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, deadline.Token);
            status = (int)response.StatusCode;
            if (!response.IsSuccessStatusCode)
            {
                return Result(null, $"HTTP {status} {response.ReasonPhrase}".TrimEnd());
            }

            onBytes(0, response.Content.Headers.ContentLength);
            await using (var body = await response.Content.ReadAsStreamAsync(deadline.Token))
            await using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, BufferBytes, FileOptions.Asynchronous))
            {
                int read;
                while ((read = await body.ReadAsync(buffer.AsMemory(0, BufferBytes), deadline.Token)) > 0)
                {
                    await file.WriteAsync(buffer.AsMemory(0, read), deadline.Token);
                    bytes += read;
                    onBytes(read, null);
                }
            }

            File.Move(temporary, Path.Combine(directory, fileName), overwrite: true);
            return Result(fileName, null);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return Result(null, $"timed out after {timeout.TotalSeconds:0.###} s");
        }
        catch (HttpRequestException ex)
        {
            return Result(null, Describe(ex));
        }
        catch (Polly.Timeout.TimeoutRejectedException)
        {
            return Result(null, $"no response within {FetchRetries.AttemptTimeout.TotalSeconds:0} s, on every attempt");
        }
        catch (IOException ex)
        {
            return Result(null, $"the download broke off after {bytes} bytes: {ex.Message}");
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            File.Delete(temporary);
        }
    }

    private static string Describe(HttpRequestException ex) => ex.HttpRequestError switch
    {
        HttpRequestError.NameResolutionError => "the host name does not resolve",
        HttpRequestError.ConnectionError => $"cannot connect: {ex.InnerException?.Message ?? ex.Message}",
        HttpRequestError.ResponseEnded => "the server closed the connection before the response was complete",
        _ => ex.Message,
    };
}
