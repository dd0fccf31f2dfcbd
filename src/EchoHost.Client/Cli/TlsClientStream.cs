using System.Net.Security;

namespace EchoHost.Client.Cli;

/// <summary>
/// A client's TLS stream on which one task reads while another writes and then half-closes. OpenSSL must not work
/// on one connection from two threads at once, and <see cref="SslStream"/> lets a read's decryption overlap a
/// write's encryption or a shutdown: while a TLS 1.3 session ticket is being taken in, a concurrent close_notify
/// fails ("shutdown while in init"), a write can corrupt the session, and either can crash the process. So each
/// read, write and shutdown takes a turn for its work in OpenSSL and gives it up while it waits for the socket.
/// </summary>
internal sealed class TlsClientStream : Stream
{
    private readonly SemaphoreSlim _turn = new(1, 1);
    private readonly AsyncLocal<bool> _holdsTurn = new();

    public TlsClientStream(Stream network) => Tls = new SslStream(new SocketSide(network, this), leaveInnerStreamOpen: false);

    /// <summary>For the handshake, which runs alone; read, write and shut down through this stream.</summary>
    public SslStream Tls { get; }

    public override bool CanRead => true;

    public override bool CanWrite => true;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await _turn.WaitAsync(cancellationToken);
        _holdsTurn.Value = true;
        try
        {
            return await Tls.ReadAsync(buffer, cancellationToken);
        }
        finally
        {
            GiveUpTurn();
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await _turn.WaitAsync(cancellationToken);
        _holdsTurn.Value = true;
        try
        {
            await Tls.WriteAsync(buffer, cancellationToken);
        }
        finally
        {
            GiveUpTurn();
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task FlushAsync(CancellationToken cancellationToken) => Tls.FlushAsync(cancellationToken);

    public override void Flush() => Tls.Flush();

    /// <summary>Sends close_notify; the socket's own half-close is the caller's.</summary>
    public async Task ShutdownAsync()
    {
        await _turn.WaitAsync(CancellationToken.None);
        _holdsTurn.Value = true;
        try
        {
            await Tls.ShutdownAsync();
        }
        finally
        {
            GiveUpTurn();
        }
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    // The semaphore is not disposed: a read still pending when the connection is dropped gives its turn up after.
    public override async ValueTask DisposeAsync()
    {
        await Tls.DisposeAsync();
        await base.DisposeAsync();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Tls.Dispose();
        }

        base.Dispose(disposing);
    }

    private void GiveUpTurn()
    {
        _holdsTurn.Value = false;
        _turn.Release();
    }

    // Before socket I/O that one of our operations waits for: its turn is given up, and taken again after. The flag
    // is the operation's own (an AsyncLocal flows into SslStream's calls below it, not across to the other task's).
    private bool GiveUpTurnForIo()
    {
        if (!_holdsTurn.Value)
        {
            return false;
        }

        _turn.Release();
        return true;
    }

    private Task RetakeTurnAsync(bool gaveUp) => gaveUp ? _turn.WaitAsync(CancellationToken.None) : Task.CompletedTask;

    /// <summary>The socket as <see cref="SslStream"/> sees it: every wait on it gives the turn up.</summary>
    private sealed class SocketSide(Stream network, TlsClientStream owner) : Stream
    {
        public override bool CanRead => true;

        public override bool CanWrite => true;

        public override bool CanSeek => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var gaveUp = owner.GiveUpTurnForIo();
            try
            {
                return await network.ReadAsync(buffer, cancellationToken);
            }
            finally
            {
                await owner.RetakeTurnAsync(gaveUp);
            }
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var gaveUp = owner.GiveUpTurnForIo();
            try
            {
                await network.WriteAsync(buffer, cancellationToken);
            }
            finally
            {
                await owner.RetakeTurnAsync(gaveUp);
            }
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override Task FlushAsync(CancellationToken cancellationToken) => network.FlushAsync(cancellationToken);

        public override void Flush() => network.Flush();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                network.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
