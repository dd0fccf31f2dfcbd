using System.Diagnostics;
using EchoHost.Client.Bench.Reactor;
using EchoHost.Client.Cli;
using Spectre.Console;

namespace EchoHost.Client.Bench;

/// <summary>
/// Runs a benchmark on the lightest engine that can: plain-TCP ping-pong on epoll loops (<see cref="ReactorRun"/>),
/// everything else (TLS, stream, churn, other systems) with a task per connection, and idle on its own.
/// </summary>
internal static class BenchRun
{
    public static async Task<BenchResult> RunAsync(BenchSettings settings, IAnsiConsole? progress, CancellationToken cancellationToken)
    {
        if (settings.Mode == BenchMode.Idle)
        {
            return await IdleRun.RunAsync(settings, progress, cancellationToken);
        }

        var budget = new BenchBudget(settings.Requests);
        var watch = new BenchWatch(settings, progress);
        var outcome = ReactorRun.Serves(settings)
            ? await ReactorRun.RunAsync(settings, budget, watch, cancellationToken)
            : await RunOnTasksAsync(settings, budget, watch, cancellationToken);
        return Result(settings, outcome);
    }

    private static async Task<RunOutcome> RunOnTasksAsync(BenchSettings settings, BenchBudget budget, BenchWatch watch, CancellationToken cancellationToken)
    {
        var measureFrom = Stopwatch.GetTimestamp() + (long)(settings.Warmup.TotalSeconds * Stopwatch.Frequency);
        var workers = Enumerable.Range(0, settings.Connections).Select(_ => new BenchWorker(settings, budget, measureFrom)).ToArray();
        using var abort = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(abort.Token);
        var running = Task.WhenAll(workers.Select(w => Task.Run(() => w.RunAsync(stop.Token, abort.Token), CancellationToken.None)));
        var stalled = await watch.WaitAsync(running, workers, measureFrom, stop.Cancel, cancellationToken);
        if (stalled)
        {
            await abort.CancelAsync();
        }

        await running;
        var seconds = Stopwatch.GetElapsedTime(measureFrom).TotalSeconds;
        cancellationToken.ThrowIfCancellationRequested();

        return RunOutcome.Sum("tasks", seconds, stalled, workers);
    }

    private static BenchResult Result(BenchSettings settings, RunOutcome outcome)
    {
        var seconds = Math.Max(outcome.Seconds, 1e-3);
        var stallError = outcome.Stalled ? $"no reply for {settings.Timeout.TotalSeconds:0.###} s; the run was stopped" : null;
        return new BenchResult(
            settings.Mode.ToString().ToLowerInvariant(),
            $"{settings.Host}:{settings.Port}",
            settings.Connections,
            settings.MessageBytes,
            settings.PrefixBytes,
            Math.Round(seconds, 3),
            outcome.Requests,
            Math.Round(outcome.Requests / seconds, 1),
            Math.Round(outcome.Requests * (double)settings.MessageBytes / seconds / 1e6, 2),
            settings.Mode == BenchMode.Stream || outcome.Latency.TotalCount == 0 ? null : LatencySummary.From(outcome.Latency),
            outcome.Mismatches,
            outcome.Errors + (outcome.Stalled ? 1 : 0),
            stallError ?? outcome.LastError,
            outcome.Engine,
            outcome.Engine == "epoll" ? Math.Min(settings.Threads, settings.Connections) : 1,
            settings.Pipeline,
            settings.Rate > 0 ? settings.Rate : null,
            settings.Warmup.TotalSeconds,
            outcome.MismatchExplanation)
        {
            Histogram = outcome.Latency,
        };
    }
}
