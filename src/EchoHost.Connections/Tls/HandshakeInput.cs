using System.IO.Pipelines;

namespace EchoHost.Connections.Tls;

/// <summary>
/// A connection's input as the TLS handshake reads it: each read resumes on the thread pool, not on the transport's
/// I/O thread, until <see cref="HandshakeEnded"/>. The handshake's signature runs in the continuation of a read, and on
/// an I/O thread (with inline scheduling) it would hold up every other connection that thread serves; a storm of new
/// clients would then stall the established ones. After the handshake, reads complete inline again, as on a plain
/// connection.
/// </summary>
internal sealed class HandshakeInput(PipeReader inner) : PipeReader
{
    private volatile bool _handshaking = true;

    public void HandshakeEnded() => _handshaking = false;

    public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default) =>
        _handshaking ? ReadOnThreadPoolAsync(cancellationToken) : inner.ReadAsync(cancellationToken);

    public override bool TryRead(out ReadResult result) => inner.TryRead(out result);

    public override void AdvanceTo(SequencePosition consumed) => inner.AdvanceTo(consumed);

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined) => inner.AdvanceTo(consumed, examined);

    public override void CancelPendingRead() => inner.CancelPendingRead();

    public override void Complete(Exception? exception = null) => inner.Complete(exception);

    public override ValueTask CompleteAsync(Exception? exception = null) => inner.CompleteAsync(exception);

    private async ValueTask<ReadResult> ReadOnThreadPoolAsync(CancellationToken cancellationToken)
    {
        var result = await inner.ReadAsync(cancellationToken).ConfigureAwait(false);
        if (!Thread.CurrentThread.IsThreadPoolThread)
        {
            await Task.Yield();
        }

        return result;
    }
}
