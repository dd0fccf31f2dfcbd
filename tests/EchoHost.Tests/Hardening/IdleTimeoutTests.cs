using System.Text;
using EchoHost.Tests.Support;

namespace EchoHost.Tests.Hardening;

[Collection(SerialTests.Name)]
public sealed class IdleTimeoutTests
{
    [Fact]
    public async Task A_silent_connection_is_closed_with_fin_after_the_idle_timeout_and_a_busy_one_stays()
    {
        using var host = EchoHostFactory.Start(new Dictionary<string, string> { ["Echo:IdleTimeout"] = "00:00:01" });
        await using var silent = await host.ConnectAsync();
        await using var busy = await host.ConnectAsync();

        var silentEnd = silent.ReceiveToEndAsync(TimeSpan.FromSeconds(5));
        for (var i = 0; i < 8; i++)
        {
            await busy.SendAsync("tick\n");
            Assert.Equal("Echoed back: tick\n", await busy.ReceiveTextAsync("Echoed back: tick\n"));
            await Task.Delay(300);
        }

        await busy.SendAsync("still open\n");
        busy.HalfClose();
        var (reply, _) = await busy.ReceiveToEndAsync();
        Assert.Equal("Echoed back: still open\n", Encoding.UTF8.GetString(reply));

        var (data, end) = await silentEnd;
        Assert.Empty(data);
        Assert.Equal(ConnectionEnd.Fin, end);
        await host.Logs.WaitForAsync(line => line == $"Connection from 127.0.0.1:{silent.LocalEndPoint.Port} sent nothing for 00:00:01: closing it");
    }
}
