using System.Net;
using Microsoft.Extensions.Http.Resilience;
using Polly;

namespace EchoHost.Client.Fetch;

/// <summary>
/// Which failures fetch tries again, and how: a connection refused or reset before any response, and the
/// statuses that say "later" (408, 429, 500, 502, 503, 504), with exponential backoff and jitter from 200 ms,
/// honouring Retry-After up to <see cref="LongestDelay"/>. An attempt whose response headers do not come within
/// the idle timeout is tried again too: a server whose listen backlog overflowed (Python's
/// http.server has room for 5) may leave a connection the client thinks open unanswered for good. The
/// response of a failed attempt is discarded before the next; a body that breaks off once it has started is
/// not retried here.
/// </summary>
internal static class FetchRetries
{
    public static readonly TimeSpan LongestDelay = TimeSpan.FromSeconds(30);

    private static readonly HashSet<HttpStatusCode> Transient =
    [
        HttpStatusCode.RequestTimeout, HttpStatusCode.TooManyRequests, HttpStatusCode.InternalServerError,
        HttpStatusCode.BadGateway, HttpStatusCode.ServiceUnavailable, HttpStatusCode.GatewayTimeout,
    ];

    /// <summary>
    /// The handler chain for fetch's one HttpClient: retries (unless <paramref name="retries"/> is 0) of attempts that
    /// each wait at most <paramref name="attemptTimeout"/> for response headers, over sockets; timeouts and delays
    /// count on <paramref name="clock"/>.
    /// </summary>
    public static HttpMessageHandler Around(HttpMessageHandler sockets, int retries, TimeSpan attemptTimeout, TimeProvider clock)
    {
        var pipeline = new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = clock };
        if (retries > 0)
        {
            pipeline.AddRetry(new HttpRetryStrategyOptions
            {
                MaxRetryAttempts = retries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = TimeSpan.FromMilliseconds(200),
                MaxDelay = LongestDelay,
                ShouldRetryAfterHeader = true,
                ShouldHandle = args => ValueTask.FromResult(args.Outcome switch
                {
                    { Exception: HttpRequestException or Polly.Timeout.TimeoutRejectedException } => true,
                    { Result: { } response } => Transient.Contains(response.StatusCode),
                    _ => false,
                }),
            });
        }

        return new ResilienceHandler(pipeline.AddTimeout(attemptTimeout).Build()) { InnerHandler = sockets };
    }
}
