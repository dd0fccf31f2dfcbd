using System.IO.Pipelines;

namespace EchoHost.Connections;

/// <summary>
/// Offered by a transport that receives on a thread of its own and can run the protocol there. While the runner
/// that reads the connection is parked (it holds no input and waits for more), the transport hands it what it
/// receives straight from its own buffer, and the bytes written in that turn go straight to the socket. Whatever
/// does not fit that path (input left unconsumed, a socket that takes less than all, the end of input) goes
/// through the connection's pipes, as it would without this feature.
/// </summary>
public interface IInlineReceiveFeature
{
    /// <summary>True on the thread that receives for this connection: the only thread a runner may park on.</summary>
    bool IsReceivingThread { get; }

    /// <summary>
    /// Makes <paramref name="receiver"/>, parked, the connection's inline receiver, if <paramref name="transport"/> is
    /// the transport's own: a connection whose pipes middleware replaced (TLS) keeps to them. It starts parked without
    /// having read the pipe, so the pipes need not exist; whatever was received into the pipe before it attached,
    /// the transport wakes it to read first. False when it does not apply, or the input has ended.
    /// </summary>
    bool Attach(IInlineReceiver receiver, IDuplexPipe transport);

    /// <summary>
    /// Called on the receiving thread by a runner about to park that read the input pipe, holds nothing of it and
    /// has let go of its reader: the transport may drop the pipe while it stays empty, so a parked connection holds
    /// none, and makes another when next needed. The runner takes the transport's input again before it next reads.
    /// </summary>
    void ReleaseInput();

    /// <summary>
    /// During a turn on the receiving thread (an inline turn, or the attached runner's turn on what it read from the
    /// pipe): an empty writer for the turn's output, sent by <see cref="Send"/>. Only an inline turn's input may be
    /// forwarded (<see cref="IInlineOutput.Forward"/>).
    /// </summary>
    IInlineOutput BeginOutput();

    /// <summary>
    /// At the end of the turn: sends what was written since <see cref="BeginOutput"/>. What the socket does
    /// not take at once is handed to the output pipe, and the result is that pipe's flush, back pressure included.
    /// </summary>
    ValueTask<FlushResult> Send();
}
