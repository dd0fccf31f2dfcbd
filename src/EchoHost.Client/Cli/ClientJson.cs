using System.Text.Json.Serialization;
using EchoHost.Client.Bench;
using EchoHost.Client.Fetch;
using EchoHost.Client.Send;

namespace EchoHost.Client.Cli;

/// <summary>The shapes <c>--json</c> writes, serialized without reflection.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(SendResult))]
[JsonSerializable(typeof(BenchResult))]
[JsonSerializable(typeof(FetchReport))]
internal sealed partial class ClientJson : JsonSerializerContext;
