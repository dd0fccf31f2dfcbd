using EchoHost.Transport.Linux;
using EchoHost.Transport;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace EchoHost.Tests.Hardening;

/// <summary>The accept gate on a fake clock: it waits while its share is spent or the system's file table is full.</summary>
public sealed class AcceptGateTests
{
    private readonly FakeTimeProvider _time = new();
    private string _fileNr = "3000\t0\t9223372036854775807";

    private AcceptGate Gate(int capacity) =>
        new("Echo", capacity, new SystemFileTable(() => _fileNr, _time), _time, NullLogger<AcceptGate>.Instance);

    [Fact]
    public async Task It_waits_while_its_share_is_spent_and_goes_on_when_a_connection_closes()
    {
        var gate = Gate(1);
        gate.Opened();

        var waiting = gate.WaitForRoomAsync(CancellationToken.None).AsTask();
        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.False(waiting.IsCompleted);

        gate.Closed();
        _time.Advance(AcceptBackoff.Longest);
        await waiting.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task It_waits_while_the_system_file_table_is_nearly_full_and_goes_on_when_handles_come_back()
    {
        var gate = Gate(100);
        _fileNr = $"{1_000_000 - SystemFileTable.Headroom}\t0\t1000000";

        var waiting = gate.WaitForRoomAsync(CancellationToken.None).AsTask();
        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.False(waiting.IsCompleted);

        _fileNr = "900000\t0\t1000000";
        _time.Advance(AcceptBackoff.Longest);
        await waiting.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("not numbers")]
    public void An_unreadable_file_table_is_never_full(string? content)
    {
        Assert.False(new SystemFileTable(() => content, _time).IsNearlyFull());
    }
}
