using System.Buffers;
using BenchmarkDotNet.Attributes;
using EchoHost.Echo;
using Microsoft.Extensions.Logging.Abstractions;

namespace EchoHost.Benchmarks;

/// <summary>
/// One read holding 64 lines of 64 bytes, handed to the echo protocol as the connection's loop hands it:
/// framing, the prefix and the writes, per framing and prefix. The target is 0 bytes allocated.
/// </summary>
[MemoryDiagnoser]
public class ProtocolBenchmarks
{
    private const int Lines = 64;
    private ReadOnlySequence<byte> _read;
    private EchoProtocol _protocol = null!;

    [Params(MessageFraming.Line, MessageFraming.Chunk)]
    public MessageFraming Framing { get; set; }

    [Params("", "Echoed back: ")]
    public string Prefix { get; set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        var line = new byte[64];
        Array.Fill(line, (byte)'x');
        line[^1] = (byte)'\n';
        _read = new ReadOnlySequence<byte>(Enumerable.Repeat(line, Lines).SelectMany(b => b).ToArray());
        var options = new EchoOptions { Framing = Framing, ReplyPrefix = Prefix };
        _protocol = new EchoProtocol(new EchoBehavior(options), null, NullLogger<EchoProtocol>.Instance);
        _protocol.ConnectionMade(new DiscardingTransport());
    }

    [Benchmark(OperationsPerInvoke = Lines, Description = "per 64-byte message")]
    public SequencePosition DataReceived() => _protocol.DataReceived(_read);
}
