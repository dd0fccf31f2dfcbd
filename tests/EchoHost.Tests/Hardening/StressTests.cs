using System.Diagnostics;
using System.Text;
using EchoHost.Connections.Limits;
using EchoHost.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Serilog.Events;

namespace EchoHost.Tests.Hardening;

[Collection(SerialTests.Name)]
public sealed class StressTests
{
    private const int Clients = 500;
    private const int RoundTrips = 50;

    [Fact]
    public async Task Five_hundred_clients_times_fifty_round_trips_with_mixed_sizes_and_resets_get_every_reply()
    {
        using var host = EchoHostFactory.Start(new Dictionary<string, string>
        {
            ["Serilog:MinimumLevel:Override:EchoHost.Echo"] = "Warning",
        });
        var stopwatch = Stopwatch.StartNew();

        var results = await Task.WhenAll(Enumerable.Range(0, Clients).Select(i => Task.Run(() => RunClientAsync(host, i))));

        Assert.Equal(Clients * RoundTrips - (Clients / 7 + 1) * (RoundTrips / 2), results.Sum());
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(60), $"took {stopwatch.Elapsed}");
        var connections = host.Services.GetRequiredService<ConnectionCounter>();
        await Eventually.TrueAsync(() => connections.Count == 0);
        Assert.DoesNotContain(host.Logs.Events, e => e.Level > LogEventLevel.Information);
    }

    // Returns how many replies the client checked; every 7th client resets half way, mid-line.
    private static async Task<int> RunClientAsync(EchoHostFactory host, int index)
    {
        var random = new Random(index);
        var resets = index % 7 == 0;
        var client = await host.ConnectAsync();
        try
        {
            for (var trip = 0; trip < RoundTrips; trip++)
            {
                if (resets && trip == RoundTrips / 2)
                {
                    await client.SendAsync("an unfinished li");
                    client.Reset();
                    return trip;
                }

                // Mostly small lines, some near the 8192-byte limit.
                var length = random.Next(10) == 0 ? random.Next(4000, 8191) : random.Next(1, 200);
                var line = new string((char)('a' + (index % 26)), length) + "\n";
                await client.SendAsync(line);
                var reply = await client.ReceiveExactlyAsync(13 + Encoding.ASCII.GetByteCount(line));
                Assert.Equal("Echoed back: " + line, Encoding.ASCII.GetString(reply));
            }

            return RoundTrips;
        }
        finally
        {
            await client.DisposeAsync();
        }
    }
}
