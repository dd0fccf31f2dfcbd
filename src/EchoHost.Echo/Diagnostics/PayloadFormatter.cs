using System.Buffers;
using System.Globalization;
using System.Text;

namespace EchoHost.Echo.Diagnostics;

/// <summary>
/// Shows a payload the way Python's <c>repr()</c> shows the decoded string, so log lines read like the
/// chapter's <c>Data received: 'Hello, World!\r\n'</c>. Bytes that are not valid UTF-8 appear as <c>\xNN</c>.
/// The text is built in a stack buffer: the only allocation is the returned string.
/// </summary>
public static class PayloadFormatter
{
    /// <summary>How many payload bytes a log line shows before it truncates.</summary>
    public const int MaxShownBytes = 256;

    // The widest escape is 4 characters for 1 byte (\xNN); \UNNNNNNNN is 10 for 4 bytes.
    private const int MaxChars = (MaxShownBytes * 4) + 64;

    public static string Format(in ReadOnlySequence<byte> payload)
    {
        var shownLength = (int)Math.Min(payload.Length, MaxShownBytes);
        Span<byte> shown = stackalloc byte[shownLength];
        payload.Slice(0, shownLength).CopyTo(shown);

        Span<char> text = stackalloc char[MaxChars];
        var quote = ChooseQuote(shown);
        var length = 0;
        text[length++] = quote;
        length += AppendEscaped(text[length..], shown, quote);
        text[length++] = quote;
        if (payload.Length > shownLength)
        {
            payload.Length.TryFormat(text[(length + 5)..], out var digits, provider: CultureInfo.InvariantCulture);
            "... (".CopyTo(text[length..]);
            length += 5 + digits;
            " bytes)".CopyTo(text[length..]);
            length += 7;
        }

        return new string(text[..length]);
    }

    // Python's rule: single quotes, unless the text holds a single quote and no double quote.
    private static char ChooseQuote(ReadOnlySpan<byte> bytes) =>
        bytes.Contains((byte)'\'') && !bytes.Contains((byte)'"') ? '"' : '\'';

    private static int AppendEscaped(Span<char> text, ReadOnlySpan<byte> bytes, char quote)
    {
        var length = 0;
        while (!bytes.IsEmpty)
        {
            var status = Rune.DecodeFromUtf8(bytes, out var rune, out var consumed);
            if (status == OperationStatus.Done)
            {
                length += AppendRune(text[length..], rune, quote);
            }
            else
            {
                foreach (var b in bytes[..consumed])
                {
                    length += Hex(text[length..], 'x', b, 2);
                }
            }

            bytes = bytes[consumed..];
        }

        return length;
    }

    private static int AppendRune(Span<char> text, Rune rune, char quote)
    {
        var escape = rune.Value switch
        {
            '\\' => '\\',
            '\t' => 't',
            '\n' => 'n',
            '\r' => 'r',
            _ when rune.Value == quote => quote,
            _ => '\0',
        };
        if (escape != '\0')
        {
            text[0] = '\\';
            text[1] = escape;
            return 2;
        }

        if (IsPrintable(rune))
        {
            return rune.EncodeToUtf16(text);
        }

        return rune.Value switch
        {
            <= 0xFF => Hex(text, 'x', rune.Value, 2),
            <= 0xFFFF => Hex(text, 'u', rune.Value, 4),
            _ => Hex(text, 'U', rune.Value, 8),
        };
    }

    private static int Hex(Span<char> text, char kind, int value, int digits)
    {
        text[0] = '\\';
        text[1] = kind;
        value.TryFormat(text[2..], out _, digits == 2 ? "x2" : digits == 4 ? "x4" : "x8", CultureInfo.InvariantCulture);
        return 2 + digits;
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
