using EchoHost.Connections.Diagnostics;
using EchoHost.Transport;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace EchoHost.Hosting;

/// <summary>
/// Every Kestrel endpoint the host binds, registered by the feature that configures it, and kept so that
/// their real addresses can be read once bound (port 0 becomes a real port only then): for the start-up
/// log, bind failures, tests, and anything that must reach the host.
/// </summary>
public sealed class Listeners
{
    public const string Echo = "Echo";
    public const string Health = "Health";

    private readonly List<Listener> _all = [];

    public IReadOnlyList<Listener> All => _all;

    public Listener this[string name] =>
        _all.Find(l => l.Name == name) ?? throw new InvalidOperationException($"The {name} listener is not configured yet.");

    public void Add(Listener listener) => _all.Add(listener);
}

/// <param name="Name">What the logs call it: <c>Echo listener serving on …</c>.</param>
/// <param name="PortSetting">The setting that chose its port, for bind failures.</param>
/// <param name="Speaks">What a client finds there, for the start-up log.</param>
/// <param name="Options">Kestrel's endpoint; its address is the bound one once the server started.</param>
/// <param name="AcceptCapacity">Connections it holds open at most, admitted or being turned away: its accept gate waits above it.</param>
/// <param name="Connections">Its connection counts, when it hosts a protocol; the shutdown log reports them.</param>
public sealed record Listener(string Name, string PortSetting, string Speaks, ListenOptions Options, int AcceptCapacity, ConnectionMetrics? Connections = null)
{
    /// <summary>When set, a full listener closes a connection between requests to accept a new one.</summary>
    public ConnectionEviction? Eviction { get; init; }

    /// <summary>It speaks HTTP: it runs on Kestrel's socket transport with the shared pool, whatever <c>Transport:Kind</c> says.</summary>
    public bool IsHttp { get; init; }

    public System.Net.IPEndPoint EndPoint => Options.IPEndPoint ?? throw new InvalidOperationException($"The {Name} listener has no IP address.");
}
