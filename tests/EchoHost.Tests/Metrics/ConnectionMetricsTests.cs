using System.Diagnostics.Metrics;
using EchoHost.Connections.Diagnostics;

namespace EchoHost.Tests.Metrics;

public sealed class ConnectionMetricsTests
{
    [Fact]
    public async Task Counts_added_from_many_threads_at_once_are_all_exported()
    {
        using var meter = new Meter($"test.{Guid.NewGuid():N}");
        var metrics = new ConnectionMetrics(meter, "test");
        const int Threads = 8;
        const int Turns = 50_000;

        using var start = new Barrier(Threads);
        await Task.WhenAll(Enumerable.Range(0, Threads).Select(_ => Task.Factory.StartNew(
            () =>
            {
                start.SignalAndWait();
                for (var i = 0; i < Turns; i++)
                {
                    metrics.MessagesReceived(1);
                    metrics.Transferred(3, 5);
                }
            },
            TaskCreationOptions.LongRunning)));

        var exported = Collect(meter);
        Assert.Equal(Threads * Turns, exported["test.messages.received"]);
        Assert.Equal(3L * Threads * Turns, exported["test.received"]);
        Assert.Equal(5L * Threads * Turns, exported["test.sent"]);
    }

    private static Dictionary<string, long> Collect(Meter meter)
    {
        var values = new Dictionary<string, long>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter == meter)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
            values[instrument.Name] = values.GetValueOrDefault(instrument.Name) + value);
        listener.Start();
        listener.RecordObservableInstruments();
        return values;
    }
}
