using EchoHost.Protocol.Echo;

namespace EchoHost.Configuration;

/// <summary>Every setting the host reads, parsed and validated as one.</summary>
public sealed record EchoHostSettings(EchoOptions Echo, HealthOptions Health);
