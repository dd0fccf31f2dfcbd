using System.IO.Pipelines;

namespace EchoHost.Tests.Support;

/// <summary>A pipe writer that counts flushes, to check the server flushes at most once per read.</summary>
internal sealed class FlushCountingWriter(PipeWriter inner) : PipeWriter
{
    private int _flushes;

    public int Flushes => Volatile.Read(ref _flushes);

    public override void Advance(int bytes) => inner.Advance(bytes);

    public override Memory<byte> GetMemory(int sizeHint = 0) => inner.GetMemory(sizeHint);

    public override Span<byte> GetSpan(int sizeHint = 0) => inner.GetSpan(sizeHint);

    public override void CancelPendingFlush() => inner.CancelPendingFlush();

    public override void Complete(Exception? exception = null) => inner.Complete(exception);

    public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _flushes);
        return inner.FlushAsync(cancellationToken);
    }
}
