using System.Buffers;
using System.IO.Pipelines;
using EchoHost.Connections;

namespace EchoHost.Tests.Support;

/// <summary>
/// The transport's side of the inline path, played over a <see cref="PipeConnection"/> as the epoll engine plays
/// it over a socket: received bytes go to a parked runner inline and what it leaves into the pipe, or all into
/// the pipe while it is not parked or not attached yet (a runner that attaches then is woken to read them first);
/// a turn's output lands in the connection's output pipe, and is counted.
/// </summary>
internal sealed class InlineTransport : IInlineReceiveFeature
{
    private readonly PipeConnection _connection;
    private readonly IDuplexPipe _pipes;
    private readonly PipeWriter _output;
    private readonly TurnOutput _turnOutput = new();
    private IInlineReceiver? _receiver;
    private bool _pipeHasInput;

    public InlineTransport(PipeConnection connection)
    {
        _connection = connection;
        _pipes = connection.Context.Transport;
        _output = connection.Context.Transport.Output;
        connection.Context.Features.Set<IInlineReceiveFeature>(this);
    }

    // The test's thread stands in for the reactor's; with inline scheduling every turn runs on it.
    public bool IsReceivingThread => true;

    public bool IsParked => _receiver?.IsParked == true;

    public bool IsAttached => _receiver is not null;

    public int InlineTurns { get; private set; }

    public int InlineSends { get; private set; }

    /// <summary>How often the runner let go of the input pipe as it parked; this transport keeps its pipes.</summary>
    public int InputReleases { get; private set; }

    public bool Attach(IInlineReceiver receiver, IDuplexPipe transport)
    {
        if (transport != _pipes)
        {
            return false;
        }

        _receiver = receiver;
        if (_pipeHasInput)
        {
            receiver.Wake();
        }

        return true;
    }

    // A transport may drop a released pipe that holds no bytes, and a cancelled read with it; this one keeps its pipe,
    // so it takes the cancellation with a read instead.
    public void ReleaseInput()
    {
        InputReleases++;
        if (_pipes.Input.TryRead(out var unread))
        {
            _pipes.Input.AdvanceTo(unread.Buffer.Start);
        }
    }

    public IInlineOutput BeginOutput()
    {
        _turnOutput.Clear();
        return _turnOutput;
    }

    public ValueTask<FlushResult> Send()
    {
        InlineSends++;
        _output.Write(_turnOutput.WrittenSpan);
        return _output.FlushAsync();
    }

    /// <summary>What the engine does with bytes it received.</summary>
    public async Task ReceiveAsync(byte[] data)
    {
        if (_receiver is { IsParked: true } receiver)
        {
            var received = new ReadOnlySequence<byte>(data);
            if (receiver.Receive(received) is { } consumed)
            {
                InlineTurns++;
                data = data[consumed..];
            }
        }

        if (data.Length > 0)
        {
            _pipeHasInput = true;
            await _connection.SendAsync(data);
        }
    }

    /// <summary>The peer's FIN: the input pipe ends, and a parked runner hears of it.</summary>
    public async Task EndAsync()
    {
        await _connection.ToServer.CompleteAsync();
        _receiver?.Wake();
    }

    // Forwarded bytes are copied, as a transport that cannot send them in place does.
    private sealed class TurnOutput : IInlineOutput
    {
        private readonly ArrayBufferWriter<byte> _written = new();

        public ReadOnlySpan<byte> WrittenSpan => _written.WrittenSpan;

        public void Clear() => _written.Clear();

        public void Forward(in ReadOnlySequence<byte> bytes)
        {
            foreach (var segment in bytes)
            {
                _written.Write(segment.Span);
            }
        }

        public void Write(ReadOnlySpan<byte> bytes) => _written.Write(bytes);

        public void Advance(int count) => _written.Advance(count);

        public Memory<byte> GetMemory(int sizeHint = 0) => _written.GetMemory(sizeHint);

        public Span<byte> GetSpan(int sizeHint = 0) => _written.GetSpan(sizeHint);
    }
}
