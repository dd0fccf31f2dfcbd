using System.Diagnostics;
using Spectre.Console;

namespace EchoHost.Client.Bench;

/// <summary>Starts one worker per connection, stops them on time or budget, and sums up.</summary>
internal static class BenchRun
{
    public static async Task<BenchResult> RunAsync(BenchSettings settings, IAnsiConsole? progress, CancellationToken cancellationToken)
    {
        var budget = new BenchBudget(settings.Requests);
        var workers = Enumerable.Range(0, settings.Connections).Select(_ => new BenchWorker(settings, budget)).ToArray();
        using var abort = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(abort.Token);
        if (settings.Requests == 0)
        {
            stop.CancelAfter(settings.Duration);
        }

        var started = Stopwatch.GetTimestamp();
        var running = Task.WhenAll(workers.Select(w => Task.Run(() => w.RunAsync(stop.Token, abort.Token), CancellationToken.None)));
        var stalled = await WatchAsync(running, workers, settings, progress, started);
        if (stalled)
        {
            await abort.CancelAsync();
        }

        await running;
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        cancellationToken.ThrowIfCancellationRequested();

        var latency = new LatencyHistogram();
        foreach (var worker in workers)
        {
            latency.Add(worker.Latency);
        }

        var requests = workers.Sum(w => w.Requests);
        var stallError = stalled ? $"no reply for {settings.Timeout.TotalSeconds:0.###} s; the run was stopped" : null;
        return new BenchResult(
            settings.Mode.ToString().ToLowerInvariant(),
            $"{settings.Host}:{settings.Port}",
            settings.Connections,
            settings.MessageBytes,
            settings.PrefixBytes,
            Math.Round(seconds, 3),
            requests,
            Math.Round(requests / seconds, 1),
            Math.Round(requests * (double)settings.MessageBytes / seconds / 1e6, 2),
            settings.Mode == BenchMode.Stream ? null : LatencySummary.From(latency),
            workers.Sum(w => w.Mismatches),
            workers.Sum(w => w.Errors) + (stalled ? 1 : 0),
            stallError ?? workers.Select(w => w.LastError).LastOrDefault(e => e is not null));
    }

    // Twice a second: update the progress line, and give up when no reply arrived for the timeout.
    private static async Task<bool> WatchAsync(Task running, BenchWorker[] workers, BenchSettings settings, IAnsiConsole? progress, long started)
    {
        long lastCount = -1;
        var lastProgress = Stopwatch.GetTimestamp();
        async Task<bool> Loop(Action<string> show)
        {
            while (await Task.WhenAny(running, Task.Delay(500)) != running)
            {
                var count = workers.Sum(w => w.Requests);
                if (count != lastCount)
                {
                    (lastCount, lastProgress) = (count, Stopwatch.GetTimestamp());
                }
                else if (Stopwatch.GetElapsedTime(lastProgress) > settings.Timeout)
                {
                    return true;
                }

                var elapsed = Stopwatch.GetElapsedTime(started).TotalSeconds;
                show($"{settings.Mode} {elapsed,6:0.0} s  {count,10:N0} requests  {count / elapsed,10:N0}/s  errors {workers.Sum(w => w.Errors)}  mismatches {workers.Sum(w => w.Mismatches)}");
            }

            return false;
        }

        if (progress is null)
        {
            return await Loop(_ => { });
        }

        return await progress.Status().StartAsync("starting", context => Loop(text => context.Status(Markup.Escape(text))));
    }
}
