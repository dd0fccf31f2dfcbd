using System.Buffers;
using System.IO.Pipelines;

namespace EchoHost.Client.Send;

/// <summary>Reads LF-terminated replies off a stream; null means the server closed the connection.</summary>
internal sealed class LineReader(Stream stream)
{
    private readonly PipeReader _reader = PipeReader.Create(stream);

    public async Task<byte[]?> ReadLineAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await _reader.ReadAsync(cancellationToken);
            var buffer = result.Buffer;
            if (buffer.PositionOf((byte)'\n') is { } lineFeed)
            {
                var end = buffer.GetPosition(1, lineFeed);
                var line = buffer.Slice(0, end).ToArray();
                _reader.AdvanceTo(end);
                return line;
            }

            if (result.IsCompleted)
            {
                var rest = buffer.IsEmpty ? null : buffer.ToArray();
                _reader.AdvanceTo(buffer.End);
                return rest;
            }

            _reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }
}
