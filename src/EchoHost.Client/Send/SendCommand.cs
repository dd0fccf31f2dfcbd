using System.Collections.Concurrent;
using System.CommandLine;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using EchoHost.Client.Cli;

namespace EchoHost.Client.Send;

/// <summary>
/// <c>echoctl send</c>: sends each argument as a line and prints each reply; with no arguments it relays
/// standard input line by line and prints whatever the server sends, like telnet.
/// </summary>
internal static class SendCommand
{
    private const string ClosedByServer = "Connection closed by the server.";

    // How long after the last reply a server's close still counts as its answer (close-after-reply sends its FIN
    // right behind the reply; a server that keeps the connection sends nothing).
    private static readonly TimeSpan ServerCloseGrace = TimeSpan.FromMilliseconds(200);

    public static Command Create(Terminal terminal)
    {
        var messages = new Argument<string[]>("message")
        {
            Arity = ArgumentArity.ZeroOrMore,
            Description = "Lines to send, one reply awaited for each. Without any, lines come from standard input.",
        };
        var host = CommonOptions.Host("localhost");
        var port = CommonOptions.Port();
        var timeout = CommonOptions.Timeout(TimeSpan.FromSeconds(5), "How long to wait to connect, and for each reply");
        var json = CommonOptions.Json();
        var tls = new TlsOptions();

        var command = new Command("send", "Send lines to an echo server and print its replies.") { messages, host, port, timeout, json };
        foreach (var option in tls.All)
        {
            command.Options.Add(option);
        }

        command.Validators.Add(tls.Validate);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var target = new SendTarget(parse.GetRequiredValue(host), parse.GetValue(port), parse.GetValue(timeout), tls.From(parse));
            var lines = parse.GetValue(messages) ?? [];
            return lines.Length > 0
                ? await SendArgumentsAsync(terminal, target, lines, parse.GetValue(json), cancellationToken)
                : await RelayInputAsync(terminal, target, cancellationToken);
        });
        return command;
    }

    private static async Task<int> SendArgumentsAsync(Terminal terminal, SendTarget target, string[] messages, bool json, CancellationToken cancellationToken)
    {
        var replies = new List<SendReply>();
        string? error = null;
        var closedByServer = false;
        try
        {
            await using var connection = await target.OpenAsync(cancellationToken);
            var stream = connection.Stream;
            var reader = new LineReader(stream);
            foreach (var message in messages)
            {
                await stream.WriteAsync(Encoding.UTF8.GetBytes(message + "\n"), cancellationToken);
                using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                deadline.CancelAfter(target.Timeout);
                var reply = await ReadReplyAsync(reader, target, message, deadline.Token, cancellationToken);
                if (reply is null)
                {
                    closedByServer = true;
                    var unanswered = messages.Skip(replies.Count).Select(m => $"'{m}'");
                    error = $"the server closed the connection; no reply to {string.Join(", ", unanswered)}{(replies.Count == 0 ? target.ClosedWithoutReplyHint : "")}";
                    break;
                }

                replies.Add(new SendReply(message, reply));
                if (!json)
                {
                    await terminal.Out.WriteLineAsync(reply.TrimEnd('\n').TrimEnd('\r'));
                }
            }

            // A close-after-reply server sends its FIN right behind the last reply.
            if (error is null && await ClosesWithinAsync(reader, ServerCloseGrace, cancellationToken))
            {
                closedByServer = true;
                if (!json)
                {
                    await terminal.Error.WriteLineAsync(ClosedByServer);
                }
            }
            else if (error is null)
            {
                await connection.HalfCloseAsync();
            }
        }
        catch (ClientException ex)
        {
            error = ex.Message;
        }
        catch (IOException ex)
        {
            error = $"the connection to {target.Host}:{target.Port} broke: {ex.InnerException?.Message ?? ex.Message}";
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return ExitCodes.Interrupted;
        }

        if (json)
        {
            var result = new SendResult($"{target.Host}:{target.Port}", replies, closedByServer, error);
            await terminal.Out.WriteLineAsync(JsonSerializer.Serialize(result, ClientJson.Default.SendResult));
        }

        if (error is not null)
        {
            await terminal.Error.WriteLineAsync($"echoctl send: {error}");
            return ExitCodes.Failed;
        }

        return ExitCodes.Ok;
    }

    // Reading through the line reader rather than polling the socket, so that TLS records that are not data
    // (session tickets) are not taken for the server's close.
    private static async Task<bool> ClosesWithinAsync(LineReader reader, TimeSpan grace, CancellationToken cancellationToken)
    {
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        wait.CancelAfter(grace);
        try
        {
            return await reader.ReadLineAsync(wait.Token) is null;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    private static async Task<string?> ReadReplyAsync(LineReader reader, SendTarget target, string message, CancellationToken deadline, CancellationToken cancellationToken)
    {
        try
        {
            var line = await reader.ReadLineAsync(deadline);
            return line is null ? null : Encoding.UTF8.GetString(line);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // A TLS port waits for the rest of a handshake that a short plain line never completes.
            var tlsHint = target.Tls is null ? "; if that port speaks TLS, add --tls" : "";
            throw new ClientException($"no reply to '{message}' within {target.Timeout.TotalSeconds:0.###} s (is the server in Receive mode{tlsHint}?)");
        }
    }

    // Like telnet: what the user types goes to the server line by line, what the server sends is shown as it
    // comes, and the server closing the connection ends the session. Every line that got no reply is reported.
    private static async Task<int> RelayInputAsync(Terminal terminal, SendTarget target, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await target.OpenAsync(cancellationToken);
            if (terminal.InputIsInteractive)
            {
                await terminal.Error.WriteLineAsync($"Connected to {target.Host}:{target.Port}. Type lines; Ctrl+D ends, Ctrl+C quits.");
            }

            var sent = new ConcurrentQueue<string>();
            var replies = new ReplyCount();
            var printing = PrintRepliesAsync(connection.Stream, terminal.Out, replies, cancellationToken);
            // On its own thread: Console.In reads synchronously even when asked for a task, and a read blocked on the
            // keyboard would otherwise hold Ctrl+C until System.CommandLine gives up waiting for the action.
            var sending = Task.Run(() => SendInputAsync(terminal.In, connection, sent, cancellationToken), CancellationToken.None);
            var interrupted = Task.Delay(Timeout.Infinite, cancellationToken);

            var first = await Task.WhenAny(printing, sending, interrupted);
            if (first == interrupted)
            {
                return ExitCodes.Interrupted;
            }

            var closedByServer = first == printing || !await sending;
            if (!closedByServer)
            {
                using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                deadline.CancelAfter(target.Timeout);
                await printing.WaitAsync(deadline.Token);
            }
            else
            {
                await printing;
                await FinishSendingAsync(sending, terminal, target.Timeout, cancellationToken);
                await terminal.Error.WriteLineAsync(replies.Lines == 0 && !sent.IsEmpty ? ClosedByServer.TrimEnd('.') + target.ClosedWithoutReplyHint + "." : ClosedByServer);
            }

            var unanswered = sent.Skip(replies.Lines).ToArray();
            if (unanswered.Length > 0)
            {
                await terminal.Error.WriteLineAsync($"echoctl send: no reply to {string.Join(", ", unanswered.Select(l => $"'{l}'"))}");
                return ExitCodes.Failed;
            }

            return ExitCodes.Ok;
        }
        catch (ClientException ex)
        {
            await terminal.Error.WriteLineAsync($"echoctl send: {ex.Message}");
            return ExitCodes.Failed;
        }
        catch (IOException ex)
        {
            await terminal.Error.WriteLineAsync($"echoctl send: the connection broke: {ex.InnerException?.Message ?? ex.Message}");
            return ExitCodes.Failed;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return ExitCodes.Interrupted;
        }
        catch (OperationCanceledException)
        {
            await terminal.Error.WriteLineAsync($"echoctl send: the server did not finish within {target.Timeout.TotalSeconds:0.###} s of the end of input");
            return ExitCodes.Failed;
        }
    }

    // False when the server closed first: a write or the half-close failed. A line counts once it is handed to the
    // connection, and the rest of the input counts unsent, so every line the server left is reported unanswered.
    private static async Task<bool> SendInputAsync(TextReader input, ClientConnection connection, ConcurrentQueue<string> sent, CancellationToken cancellationToken)
    {
        try
        {
            while (await input.ReadLineAsync(cancellationToken) is { } line)
            {
                sent.Enqueue(line);
                await connection.Stream.WriteAsync(Encoding.UTF8.GetBytes(line + "\n"), cancellationToken);
            }

            await connection.HalfCloseAsync();
            return true;
        }
        catch (Exception ex) when (ex is IOException or SocketException)
        {
            while (await input.ReadLineAsync(cancellationToken) is { } rest)
            {
                sent.Enqueue(rest);
            }

            return false;
        }
    }

    // Piped input already holds the lines that follow the one the server closed on: they are read and counted
    // before the unanswered ones are listed. A person at a terminal has typed nothing more, and waiting for them
    // would keep the session open after the server left.
    private static async Task FinishSendingAsync(Task<bool> sending, Terminal terminal, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (terminal.InputIsInteractive)
        {
            return;
        }

        try
        {
            await sending.WaitAsync(timeout, cancellationToken);
        }
        catch (TimeoutException)
        {
            // Input that is still coming after the timeout is not part of this session.
        }
    }

    private static async Task PrintRepliesAsync(Stream stream, TextWriter output, ReplyCount replies, CancellationToken cancellationToken)
    {
        var decoder = Encoding.UTF8.GetDecoder();
        var bytes = new byte[8192];
        var chars = new char[Encoding.UTF8.GetMaxCharCount(bytes.Length)];
        int read;
        while ((read = await stream.ReadAsync(bytes, cancellationToken)) > 0)
        {
            replies.Lines += bytes.AsSpan(0, read).Count((byte)'\n');
            var count = decoder.GetChars(bytes, 0, read, chars, 0);
            await output.WriteAsync(chars.AsMemory(0, count), cancellationToken);
            await output.FlushAsync(cancellationToken);
        }
    }
}

// Reply lines seen by the printing task, read by the relay once that task is done.
internal sealed class ReplyCount
{
    public int Lines { get; set; }
}

internal sealed record SendTarget(string Host, int Port, TimeSpan Timeout, ClientTls? Tls)
{
    public Task<ClientConnection> OpenAsync(CancellationToken cancellationToken) =>
        ClientConnection.OpenAsync(Host, Port, Tls, Timeout, cancellationToken);

    /// <summary>Why a server may close without a word: a plain client at a TLS port looks like that.</summary>
    public string ClosedWithoutReplyHint => Tls is null ? " (if that port speaks TLS, add --tls)" : string.Empty;
}

public sealed record SendReply(string Message, string Reply);

public sealed record SendResult(string Server, IReadOnlyList<SendReply> Replies, bool ClosedByServer, string? Error);
