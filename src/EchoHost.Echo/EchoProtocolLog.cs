using System.Buffers;
using EchoHost.Echo.Diagnostics;
using Microsoft.Extensions.Logging;

namespace EchoHost.Echo;

internal static partial class EchoProtocolLog
{
    public static void DataReceived(ILogger logger, in ReadOnlySequence<byte> message)
    {
        // The repr is built only when the line will be written: this runs once per message.
        if (logger.IsEnabled(LogLevel.Information))
        {
            var payload = PayloadFormatter.Format(message);
            DataReceived(logger, payload);
        }
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Data received: {Payload}", SkipEnabledCheck = true)]
    private static partial void DataReceived(ILogger logger, string payload);
}
