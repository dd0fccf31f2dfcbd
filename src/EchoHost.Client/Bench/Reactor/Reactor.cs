using EchoHost.Shared;
using System.Diagnostics;
using HdrHistogram;

namespace EchoHost.Client.Bench.Reactor;

/// <summary>
/// One thread of the ping-pong load: an epoll loop over its share of the connections. Closed loop, each
/// connection keeps <c>--pipeline</c> requests in flight and sends the next as a reply completes. At a fixed
/// <c>--rate</c>, each connection sends on its own schedule whatever the replies do, and latency runs from when a
/// request was due, not from when it could be sent, so a stalled server is charged for the requests it held up
/// (no coordinated omission).
/// </summary>
internal sealed class Reactor(LoadConnection[] connections, ReactorPlan plan, BenchBudget budget) : ILoadShare, IDisposable
{
    private const int MaxEvents = 256;
    private readonly int _epoll = LinuxCalls.EpollCreate(0);
    private readonly byte[] _receive = new byte[256 * 1024];
    private readonly ReplyCheck _check = new(plan.MessageBytes, plan.PrefixBytes);
    private long _requests;

    public LongHistogram Latency { get; } = LatencyRecording.NewHistogram();

    public long Requests => Volatile.Read(ref _requests);

    public long Mismatches { get; private set; }

    public long Errors { get; private set; }

    public string? LastError { get; private set; }

    public string? MismatchExplanation { get; private set; }

    public unsafe void Run(ReactorSignals signals)
    {
        if (_epoll < 0)
        {
            Fail("epoll_create1 failed");
            return;
        }

        var now = Stopwatch.GetTimestamp();
        for (var i = 0; i < connections.Length; i++)
        {
            connections[i].Index = i;
            var interest = new LinuxCalls.EpollEvent { Events = LinuxCalls.In, Data = (ulong)i };
            LinuxCalls.EpollControl(_epoll, LinuxCalls.Add, connections[i].Handle, ref interest);
            connections[i].NextDue = now + (plan.IntervalTicks * i / Math.Max(connections.Length, 1));
            if (plan.IntervalTicks == 0)
            {
                Fill(connections[i], now);
            }
        }

        var events = stackalloc LinuxCalls.EpollEvent[MaxEvents];
        while (!signals.Stopped && !Finished())
        {
            var ready = LinuxCalls.EpollWait(_epoll, events, MaxEvents, WaitMilliseconds());
            for (var i = 0; i < ready; i++)
            {
                Handle(connections[(int)events[i].Data], events[i].Events, signals);
            }

            if (plan.IntervalTicks > 0)
            {
                SendDue(Stopwatch.GetTimestamp());
            }
        }
    }

    public void Dispose()
    {
        if (_epoll >= 0)
        {
            LinuxCalls.Close(_epoll);
        }
    }

    // Every connection gone, or the budget spent and every reply in (a run of --requests is over).
    private bool Finished()
    {
        var spent = budget.Spent;
        foreach (var connection in connections)
        {
            if (!connection.Closed && (!spent || connection.InFlight > 0))
            {
                return false;
            }
        }

        return true;
    }

    private int WaitMilliseconds()
    {
        if (plan.IntervalTicks == 0)
        {
            return 50;
        }

        var due = long.MaxValue;
        foreach (var connection in connections)
        {
            due = connection.Closed ? due : Math.Min(due, connection.NextDue);
        }

        var wait = (due - Stopwatch.GetTimestamp()) * 1000 / Stopwatch.Frequency;
        return (int)Math.Clamp(wait, 0, 50);
    }

    private void Handle(LoadConnection connection, uint events, ReactorSignals signals)
    {
        if (connection.Closed)
        {
            return;
        }

        if ((events & LinuxCalls.Out) != 0)
        {
            Flush(connection);
        }

        if ((events & (LinuxCalls.In | LinuxCalls.Error | LinuxCalls.HangUp)) == 0)
        {
            return;
        }

        var received = LinuxCalls.Receive(connection.Handle, _receive);
        if (received > 0)
        {
            Consume(connection, _receive.AsSpan(0, received), signals);
            Flush(connection);
        }
        else if (received == 0)
        {
            Close(connection, $"the server closed a connection after {connection.NextToReceive} replies on it{(connection.NextToReceive == 1 ? " (does it close after each reply? then use --mode churn)" : "")}");
        }
        else if (received != -LinuxCalls.WouldBlock && received != -LinuxCalls.Interrupted)
        {
            Close(connection, $"receive failed: {new System.ComponentModel.Win32Exception(-received).Message}");
        }
    }

    private void Consume(LoadConnection connection, ReadOnlySpan<byte> data, ReactorSignals signals)
    {
        while (!data.IsEmpty)
        {
            if (connection.InFlight == 0)
            {
                Close(connection, "the server sent bytes nobody asked for");
                return;
            }

            // A reply that arrived whole is checked where it lies; only one split across reads is copied.
            ReadOnlySpan<byte> reply;
            if (connection.ReplyReceived == 0 && data.Length >= _check.ReplyBytes)
            {
                reply = data[.._check.ReplyBytes];
                data = data[_check.ReplyBytes..];
            }
            else
            {
                var take = Math.Min(data.Length, _check.ReplyBytes - connection.ReplyReceived);
                data[..take].CopyTo(connection.Reply.AsSpan(connection.ReplyReceived));
                connection.ReplyReceived += take;
                data = data[take..];
                if (connection.ReplyReceived < _check.ReplyBytes)
                {
                    return;
                }

                reply = connection.Reply;
            }

            var now = Stopwatch.GetTimestamp();
            var (sequence, intended) = connection.Received();
            if (!_check.Matches(sequence, reply))
            {
                Mismatches++;
                MismatchExplanation ??= Bench.MismatchExplanation.Explain(reply, sequence, plan.MessageBytes, plan.PrefixBytes);
            }

            if (now >= signals.MeasureFrom)
            {
                LatencyRecording.Record(Latency, now - intended);
                Volatile.Write(ref _requests, _requests + 1);
            }

            if (plan.IntervalTicks == 0 && !signals.Stopped)
            {
                Fill(connection, now);
            }
        }
    }

    private void Fill(LoadConnection connection, long now)
    {
        while (connection.InFlight < plan.Pipeline && budget.TryTake())
        {
            connection.Queue(now);
        }

        Flush(connection);
    }

    private void SendDue(long now)
    {
        foreach (var connection in connections)
        {
            var queued = false;
            while (!connection.Closed && connection.NextDue <= now && connection.CanSendMore && budget.TryTake())
            {
                connection.Queue(connection.NextDue);
                connection.NextDue += plan.IntervalTicks;
                queued = true;
            }

            if (queued)
            {
                Flush(connection);
            }
        }
    }

    private void Flush(LoadConnection connection)
    {
        while (!connection.Closed && !connection.Unsent.IsEmpty)
        {
            var sent = LinuxCalls.Send(connection.Handle, connection.Unsent);
            if (sent > 0)
            {
                connection.Sent(sent);
            }
            else if (sent == -LinuxCalls.WouldBlock)
            {
                Watch(connection, writable: true);
                return;
            }
            else if (sent != -LinuxCalls.Interrupted)
            {
                Close(connection, $"send failed: {new System.ComponentModel.Win32Exception(-sent).Message}");
                return;
            }
        }

        Watch(connection, writable: false);
    }

    private void Watch(LoadConnection connection, bool writable)
    {
        if (connection.WaitsToWrite == writable)
        {
            return;
        }

        var interest = new LinuxCalls.EpollEvent { Events = LinuxCalls.In | (writable ? LinuxCalls.Out : 0), Data = (ulong)connection.Index };
        LinuxCalls.EpollControl(_epoll, LinuxCalls.Modify, connection.Handle, ref interest);
        connection.WaitsToWrite = writable;
    }

    private void Close(LoadConnection connection, string error)
    {
        connection.Closed = true;
        Fail(error);
    }

    private void Fail(string error)
    {
        Errors++;
        LastError = error;
    }
}

/// <param name="Pipeline">Requests each connection keeps in flight, closed loop.</param>
/// <param name="IntervalTicks">At a fixed rate, Stopwatch ticks between one connection's requests; 0 for closed loop.</param>
internal sealed record ReactorPlan(int MessageBytes, int PrefixBytes, int Pipeline, long IntervalTicks);

/// <summary>What the run tells its reactors: stop sending; record only after the warm-up.</summary>
internal sealed class ReactorSignals(long measureFrom)
{
    private volatile bool _stopped;

    public long MeasureFrom { get; } = measureFrom;

    public bool Stopped => _stopped;

    public void Stop() => _stopped = true;
}
