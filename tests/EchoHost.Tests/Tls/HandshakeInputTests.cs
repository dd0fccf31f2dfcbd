using System.IO.Pipelines;
using EchoHost.Connections.Tls;

namespace EchoHost.Tests.Tls;

/// <summary>
/// The TLS handshake reads its input through <see cref="HandshakeInput"/>: a read that an I/O thread completes
/// inline resumes on the thread pool while the handshake runs, and inline again after it.
/// </summary>
public sealed class HandshakeInputTests
{
    [Fact]
    public async Task During_the_handshake_a_read_completed_on_an_io_thread_resumes_on_the_thread_pool()
    {
        var (pipe, input) = InlinePipe();

        var resumedOnPool = await ResumesOnThreadPoolAsync(input, pipe.Writer);

        Assert.True(resumedOnPool);
    }

    [Fact]
    public async Task After_the_handshake_reads_resume_inline_on_the_io_thread_as_on_a_plain_connection()
    {
        var (pipe, input) = InlinePipe();
        input.HandshakeEnded();

        var resumedOnPool = await ResumesOnThreadPoolAsync(input, pipe.Writer);

        Assert.False(resumedOnPool);
    }

    private static (Pipe Pipe, HandshakeInput Input) InlinePipe()
    {
        var pipe = new Pipe(new PipeOptions(readerScheduler: PipeScheduler.Inline, writerScheduler: PipeScheduler.Inline, useSynchronizationContext: false));
        return (pipe, new HandshakeInput(pipe.Reader));
    }

    // Starts a read, then writes from a dedicated thread (as a transport's I/O thread does) and reports where the
    // read's continuation ran.
    private static async Task<bool> ResumesOnThreadPoolAsync(HandshakeInput input, PipeWriter writer)
    {
        var resumed = input.ReadAsync().AsTask().ContinueWith(_ => Thread.CurrentThread.IsThreadPoolThread, TaskContinuationOptions.ExecuteSynchronously);
        var ioThread = new Thread(() => writer.WriteAsync(new byte[] { 22 }).AsTask().GetAwaiter().GetResult()) { Name = "test I/O thread" };
        ioThread.Start();
        ioThread.Join();
        return await resumed.WaitAsync(TimeSpan.FromSeconds(10));
    }
}
