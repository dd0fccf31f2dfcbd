using System.Buffers;
using System.Text;
using EchoHost.Connections.Protocols;

namespace UpperCaseHost;

/// <summary>Answers each line with the same line in capitals. A protocol sees bytes and a transport, nothing else.</summary>
public sealed class UpperCaseProtocol : IConnectionProtocol
{
    private IProtocolTransport? _transport;

    public void ConnectionMade(IProtocolTransport transport) => _transport = transport;

    public SequencePosition DataReceived(in ReadOnlySequence<byte> data)
    {
        var reader = new SequenceReader<byte>(data);
        while (reader.TryReadTo(out ReadOnlySequence<byte> line, (byte)'\n'))
        {
            _transport!.Write(Encoding.ASCII.GetBytes(Encoding.ASCII.GetString(line).ToUpperInvariant() + "\n"));
        }

        return reader.Position;
    }

    public void EofReceived(in ReadOnlySequence<byte> unconsumed)
    {
    }

    public void ConnectionLost(Exception? exception)
    {
    }
}
