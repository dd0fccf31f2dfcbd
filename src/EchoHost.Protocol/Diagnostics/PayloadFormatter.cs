using System.Buffers;
using System.Globalization;
using System.Text;

namespace EchoHost.Protocol.Diagnostics;

/// <summary>
/// Shows a payload the way Python's <c>repr()</c> shows the decoded string, so log lines read like the
/// chapter's <c>Data received: 'Hello, World!\r\n'</c>. Bytes that are not valid UTF-8 appear as <c>\xNN</c>.
/// </summary>
public static class PayloadFormatter
{
    /// <summary>How many payload bytes a log line shows before it truncates.</summary>
    public const int MaxShownBytes = 256;

    public static string Format(in ReadOnlySequence<byte> payload)
    {
        var shownLength = (int)Math.Min(payload.Length, MaxShownBytes);
        Span<byte> shown = stackalloc byte[shownLength];
        payload.Slice(0, shownLength).CopyTo(shown);

        var text = new StringBuilder(shownLength + 16);
        var quote = ChooseQuote(shown);
        text.Append(quote);
        AppendEscaped(text, shown, quote);
        text.Append(quote);

        if (payload.Length > shownLength)
        {
            text.Append(CultureInfo.InvariantCulture, $"... ({payload.Length} bytes)");
        }

        return text.ToString();
    }

    // Python's rule: single quotes, unless the text holds a single quote and no double quote.
    private static char ChooseQuote(ReadOnlySpan<byte> bytes) =>
        bytes.Contains((byte)'\'') && !bytes.Contains((byte)'"') ? '"' : '\'';

    private static void AppendEscaped(StringBuilder text, ReadOnlySpan<byte> bytes, char quote)
    {
        while (!bytes.IsEmpty)
        {
            var status = Rune.DecodeFromUtf8(bytes, out var rune, out var consumed);
            if (status == OperationStatus.Done)
            {
                AppendRune(text, rune, quote);
            }
            else
            {
                foreach (var b in bytes[..consumed])
                {
                    text.Append(CultureInfo.InvariantCulture, $"\\x{b:x2}");
                }
            }

            bytes = bytes[consumed..];
        }
    }

    private static void AppendRune(StringBuilder text, Rune rune, char quote)
    {
        switch (rune.Value)
        {
            case '\\': text.Append(@"\\"); return;
            case '\t': text.Append(@"\t"); return;
            case '\n': text.Append(@"\n"); return;
            case '\r': text.Append(@"\r"); return;
        }

        if (rune.Value == quote)
        {
            text.Append('\\').Append(quote);
        }
        else if (IsPrintable(rune))
        {
            text.Append(rune.ToString());
        }
        else if (rune.Value <= 0xFF)
        {
            text.Append(CultureInfo.InvariantCulture, $"\\x{rune.Value:x2}");
        }
        else if (rune.Value <= 0xFFFF)
        {
            text.Append(CultureInfo.InvariantCulture, $"\\u{rune.Value:x4}");
        }
        else
        {
            text.Append(CultureInfo.InvariantCulture, $"\\U{rune.Value:x8}");
        }
    }

    // Python's str.isprintable(): everything but the "Other" and "Separator" categories, space excepted.
    private static bool IsPrintable(Rune rune) => rune.Value == ' ' || Rune.GetUnicodeCategory(rune) switch
    {
        UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.Surrogate
            or UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned
            or UnicodeCategory.SpaceSeparator or UnicodeCategory.LineSeparator
            or UnicodeCategory.ParagraphSeparator => false,
        _ => true,
    };
}
