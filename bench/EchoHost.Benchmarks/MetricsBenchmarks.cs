using System.Diagnostics.Metrics;
using BenchmarkDotNet.Attributes;
using EchoHost.Connections.Diagnostics;

namespace EchoHost.Benchmarks;

/// <summary>
/// The counts each turn adds (one message, bytes in and out), from two threads at once, as two reactors on two
/// cores add them: <see cref="ConnectionMetrics"/> against the same three atomic adds on one shared cache line.
/// </summary>
public class MetricsBenchmarks : IDisposable
{
    private const int Threads = 2;
    private const int Turns = 1_000_000;
    private readonly SharedLine _shared = new();
    private Meter _meter = null!;
    private ConnectionMetrics _metrics = null!;

    [GlobalSetup]
    public void Setup()
    {
        _meter = new Meter("bench");
        _metrics = new ConnectionMetrics(_meter, "bench");
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _meter.Dispose();
        GC.SuppressFinalize(this);
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Threads * Turns, Description = "one shared line, per turn")]
    public void Shared() => OnThreads(() =>
    {
        for (var i = 0; i < Turns; i++)
        {
            _shared.Add(1, 64, 77);
        }
    });

    [Benchmark(OperationsPerInvoke = Threads * Turns, Description = "ConnectionMetrics, per turn")]
    public void Striped() => OnThreads(() =>
    {
        for (var i = 0; i < Turns; i++)
        {
            _metrics.MessagesReceived(1);
            _metrics.Transferred(64, 77);
        }
    });

    private static void OnThreads(Action turns)
    {
        var threads = Enumerable.Range(0, Threads).Select(_ => new Thread(() => turns())).ToArray();
        foreach (var thread in threads)
        {
            thread.Start();
        }

        foreach (var thread in threads)
        {
            thread.Join();
        }
    }

    private sealed class SharedLine
    {
        private long _messages;
        private long _received;
        private long _sent;

        public void Add(long messages, long received, long sent)
        {
            Interlocked.Add(ref _messages, messages);
            Interlocked.Add(ref _received, received);
            Interlocked.Add(ref _sent, sent);
        }
    }
}
