using System.Collections.Concurrent;
using Serilog.Core;
using Serilog.Events;
using Serilog.Formatting.Display;

namespace EchoHost.Tests.Support;

/// <summary>A Serilog sink that keeps each event rendered as the console shows it, with its properties (scopes' included).</summary>
public sealed class LogCapture : ILogEventSink
{
    private static readonly MessageTemplateTextFormatter Renderer = new("{Message:lj}");

    public ConcurrentQueue<(LogEventLevel Level, string Message, IReadOnlyDictionary<string, LogEventPropertyValue> Properties)> Events { get; } = new();

    public IEnumerable<string> Messages => Events.Select(e => e.Message);

    public void Emit(LogEvent logEvent)
    {
        ArgumentNullException.ThrowIfNull(logEvent);
        using var text = new StringWriter();
        Renderer.Format(logEvent, text);
        Events.Enqueue((logEvent.Level, text.ToString(), logEvent.Properties));
    }

    /// <summary>Waits for a line: the host logs a connection's last line after the client already saw its end.</summary>
    public Task<string> WaitForAsync(Func<string, bool> match, TimeSpan? timeout = null) =>
        Eventually.FindAsync(
            () => Messages.FirstOrDefault(match),
            () => "No matching log line. Lines so far:\n" + string.Join("\n", Messages),
            timeout);
}
