using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;

namespace EchoHost.Tests.Support;

/// <summary>
/// A connection made of two in-memory pipes: the test writes what the "peer" sends into <see cref="ToServer"/>
/// and reads what the server replies from <see cref="FromServer"/>. The server's writer counts its flushes. It
/// offers the features Kestrel gives each connection that the pipeline uses: close requests and completion.
/// </summary>
internal sealed class PipeConnection : IConnectionLifetimeNotificationFeature, IConnectionCompleteFeature, IDisposable
{
    private readonly Stack<(Func<object, Task> Callback, object State)> _completions = new();
    private readonly Pipe _toServer;
    private readonly Pipe _fromServer;
    private readonly CancellationTokenSource _closeRequested = new();
    private readonly PipeConnectionContext _context;

    /// <param name="remoteEndPoint">The peer the server sees.</param>
    /// <param name="serverOutputLimit">Bytes the server may write before its flush waits for the peer to read; 0 for the pipe's default.</param>
    /// <param name="inlineScheduling">Run the server's read continuations on the thread that completes them, as Kestrel does here.</param>
    public PipeConnection(EndPoint? remoteEndPoint = null, long serverOutputLimit = 0, bool inlineScheduling = false)
    {
        _toServer = new Pipe(new PipeOptions(readerScheduler: inlineScheduling ? PipeScheduler.Inline : PipeScheduler.ThreadPool));
        _fromServer = serverOutputLimit > 0 ? new Pipe(new PipeOptions(pauseWriterThreshold: serverOutputLimit, resumeWriterThreshold: serverOutputLimit / 2)) : new Pipe();
        ServerOutput = new FlushCountingWriter(_fromServer.Writer);
        _context = new PipeConnectionContext(new DuplexPipe(_toServer.Reader, ServerOutput), new DuplexPipe(_fromServer.Reader, _toServer.Writer))
        {
            RemoteEndPoint = remoteEndPoint,
        };
        Context.Features.Set<IConnectionLifetimeNotificationFeature>(this);
        Context.Features.Set<IConnectionCompleteFeature>(this);
    }

    public DefaultConnectionContext Context => _context;

    public PipeWriter ToServer => _toServer.Writer;

    public PipeReader FromServer => _fromServer.Reader;

    public FlushCountingWriter ServerOutput { get; }

    /// <summary>The server aborted the connection (what Kestrel turns into a reset).</summary>
    public bool Aborted => _context.IsAborted;

    public CancellationToken ConnectionClosedRequested
    {
        get => _closeRequested.Token;
        set => throw new NotSupportedException();
    }

    public void RequestClose() => _closeRequested.Cancel();

    public void OnCompleted(Func<object, Task> callback, object state) => _completions.Push((callback, state));

    /// <summary>What Kestrel does with a connection: runs the pipeline, then what it registered for completion, last first.</summary>
    public async Task RunAsync(ConnectionDelegate pipeline)
    {
        try
        {
            await pipeline(Context);
        }
        finally
        {
            while (_completions.TryPop(out var completion))
            {
                await completion.Callback(completion.State);
            }
        }
    }

    public void Dispose() => _closeRequested.Dispose();

    public async Task SendAsync(byte[] data)
    {
        await ToServer.WriteAsync(data);
    }

    public async Task<byte[]> ReceiveExactlyAsync(int count)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (true)
        {
            var result = await FromServer.ReadAsync(timeout.Token);
            if (result.Buffer.Length >= count)
            {
                var bytes = result.Buffer.Slice(0, count).ToArray();
                FromServer.AdvanceTo(result.Buffer.GetPosition(count));
                return bytes;
            }

            if (result.IsCompleted)
            {
                throw new EndOfStreamException($"The server closed after {result.Buffer.Length} of {count} bytes.");
            }

            FromServer.AdvanceTo(result.Buffer.Start, result.Buffer.End);
        }
    }

    /// <summary>Everything the server writes until it completes its output (its FIN).</summary>
    public async Task<byte[]> ReadToEndAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (true)
        {
            var result = await FromServer.ReadAsync(timeout.Token);
            if (result.IsCompleted)
            {
                var bytes = result.Buffer.ToArray();
                FromServer.AdvanceTo(result.Buffer.End);
                return bytes;
            }

            FromServer.AdvanceTo(result.Buffer.Start, result.Buffer.End);
        }
    }

    // DefaultConnectionContext cancels ConnectionClosed on the thread pool after Abort, which throws and ends the test
    // process if it was disposed meanwhile (dotnet/aspnetcore#57098); this source holds no timer and is never disposed.
    private sealed class PipeConnectionContext : DefaultConnectionContext
    {
        private readonly CancellationTokenSource _closed = new();

        private volatile bool _aborted;

        public PipeConnectionContext(IDuplexPipe transport, IDuplexPipe application)
            : base("test", transport, application) => ConnectionClosed = _closed.Token;

        public bool IsAborted => _aborted;

        public override void Abort(ConnectionAbortedException abortReason)
        {
            _aborted = true;
            ThreadPool.UnsafeQueueUserWorkItem(static closed => closed.Cancel(), _closed, preferLocal: false);
        }
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}
