using Spectre.Console;

namespace EchoHost.Client.Fetch;

/// <summary>
/// For a person at a terminal: one row for the whole run, and one per download in flight. A row whose download
/// ended is hidden and handed to the next download, so 100,000 URLs take as many rows (and objects) as run at once.
/// </summary>
internal sealed class ProgressObserver(ProgressContext context, string label, int count) : IFetchObserver
{
    private readonly Lock _gate = new();
    private readonly Stack<ProgressTask> _idle = new();
    private readonly ProgressTask _overall = context.AddTask(Markup.Escape($"{label}{count} URL(s)"), maxValue: Math.Max(count, 1));

    public IDownloadObserver Started(FetchJob job)
    {
        lock (_gate)
        {
            var name = Markup.Escape(job.FileName);
            var row = _idle.TryPop(out var free) ? free : context.AddTask(name, maxValue: 1);
            row.Description = name;
            row.Value = 0;
            row.MaxValue = 1;
            return new Row(this, row);
        }
    }

    private sealed class Row(ProgressObserver owner, ProgressTask row) : IDownloadObserver
    {
        public void Received(long chunk, long? total)
        {
            lock (owner._gate)
            {
                // Without a Content-Length the size is known only at the end: the bar grows with the bytes.
                row.MaxValue = total is { } known ? Math.Max(known, 1) : Math.Max(row.MaxValue, row.Value + chunk);
                row.Increment(chunk);
            }
        }

        public void Finished(DownloadResult result)
        {
            lock (owner._gate)
            {
                // A full row counts as finished, which the display hides (HideCompleted) until it is reused.
                row.Value = row.MaxValue;
                owner._idle.Push(row);
                owner._overall.Increment(1);
            }
        }
    }
}
