using System.Diagnostics;
using Spectre.Console;

namespace EchoHost.Client.Bench;

/// <summary>
/// Watches a run twice a second: shows progress on a terminal, says stop when the duration is up (counted from the
/// end of the warm-up), and gives up when no reply arrived for the timeout.
/// </summary>
internal sealed class BenchWatch(BenchSettings settings, IAnsiConsole? progress)
{
    /// <returns>True when the run stalled.</returns>
    public async Task<bool> WaitAsync(Task running, IReadOnlyList<ILoadShare> shares, long measureFrom, Action stop, CancellationToken cancellationToken)
    {
        long lastCount = -1;
        var lastProgress = Stopwatch.GetTimestamp();
        var timed = settings.Requests == 0;
        async Task<bool> Loop(Action<string> show)
        {
            while (await Task.WhenAny(running, Task.Delay(NextLook(measureFrom, timed), CancellationToken.None)) != running)
            {
                if (cancellationToken.IsCancellationRequested || (timed && Stopwatch.GetElapsedTime(measureFrom) >= settings.Duration))
                {
                    stop();
                }

                var count = shares.Sum(s => s.Requests);
                if (count != lastCount)
                {
                    (lastCount, lastProgress) = (count, Stopwatch.GetTimestamp());
                }
                else if (Stopwatch.GetElapsedTime(lastProgress) > settings.Timeout && Stopwatch.GetTimestamp() > measureFrom)
                {
                    stop();
                    return true;
                }

                var elapsed = Stopwatch.GetElapsedTime(measureFrom).TotalSeconds;
                show(elapsed < 0
                    ? $"{settings.Mode} warming up"
                    : $"{settings.Mode} {elapsed,6:0.0} s  {count,10:N0} requests  {count / Math.Max(elapsed, 0.001),10:N0}/s  errors {shares.Sum(s => s.Errors)}  mismatches {shares.Sum(s => s.Mismatches)}");
            }

            return false;
        }

        if (progress is null)
        {
            return await Loop(static _ => { });
        }

        return await progress.Status().StartAsync("starting", context => Loop(text => context.Status(Markup.Escape(text))));
    }

    // Twice a second, or sooner when the duration ends before that, so a timed run stops on time.
    private TimeSpan NextLook(long measureFrom, bool timed)
    {
        var left = settings.Duration - Stopwatch.GetElapsedTime(measureFrom);
        return timed && left < TimeSpan.FromMilliseconds(500) ? TimeSpan.FromMilliseconds(Math.Max(left.TotalMilliseconds, 1)) : TimeSpan.FromMilliseconds(500);
    }
}

/// <summary>What a run measured, before it is put in a <see cref="BenchResult"/>.</summary>
internal sealed record RunOutcome(
    string Engine, double Seconds, long Requests, HdrHistogram.LongHistogram Latency, long Mismatches, long Errors, bool Stalled, string? LastError, string? MismatchExplanation)
{
    /// <summary>The shares of a run added up: counts summed, latencies merged, the last error and the first explanation.</summary>
    public static RunOutcome Sum(string engine, double seconds, bool stalled, IReadOnlyList<ILoadShare> shares)
    {
        var latency = LatencyRecording.NewHistogram();
        foreach (var share in shares)
        {
            latency.Add(share.Latency);
        }

        return new RunOutcome(
            engine, seconds, shares.Sum(s => s.Requests), latency, shares.Sum(s => s.Mismatches), shares.Sum(s => s.Errors), stalled,
            shares.Select(s => s.LastError).LastOrDefault(e => e is not null), shares.Select(s => s.MismatchExplanation).FirstOrDefault(e => e is not null));
    }
}

/// <summary>One part of a run's load (a task engine's connection, an epoll engine's thread) and what it counted.</summary>
internal interface ILoadShare
{
    long Requests { get; }

    long Mismatches { get; }

    long Errors { get; }

    string? LastError { get; }

    string? MismatchExplanation { get; }

    HdrHistogram.LongHistogram Latency { get; }
}
