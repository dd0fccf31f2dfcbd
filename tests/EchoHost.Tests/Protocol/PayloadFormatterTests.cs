using System.Buffers;
using System.Text;
using EchoHost.Echo.Diagnostics;

namespace EchoHost.Tests.Protocol;

public sealed class PayloadFormatterTests
{
    private static string Format(byte[] bytes) => PayloadFormatter.Format(new ReadOnlySequence<byte>(bytes));

    private static string Format(string text) => Format(Encoding.UTF8.GetBytes(text));

    [Theory]
    [InlineData("Hello, World!\r\n", @"'Hello, World!\r\n'")]
    [InlineData("tab\there", @"'tab\there'")]
    [InlineData(@"back\slash", @"'back\\slash'")]
    [InlineData("it's", "\"it's\"")]
    [InlineData("say \"hi\"", "'say \"hi\"'")]
    [InlineData("both ' and \"", "'both \\' and \"'")]
    [InlineData("caf\u00e9 \u65e5\u672c", "'caf\u00e9 \u65e5\u672c'")]
    [InlineData("\u0007bell\u007f", @"'\x07bell\x7f'")]
    [InlineData("nbsp\u00a0", @"'nbsp\xa0'")]
    [InlineData("zero\u200bwidth", @"'zero\u200bwidth'")]
    [InlineData("", "''")]
    public void Shows_text_the_way_python_repr_does(string text, string expected)
    {
        Assert.Equal(expected, Format(text));
    }

    [Fact]
    public void Shows_invalid_utf8_bytes_as_hex_escapes()
    {
        Assert.Equal(@"'\x00ok\xff\xc3('", Format([0x00, (byte)'o', (byte)'k', 0xFF, 0xC3, 0x28]));
    }

    [Fact]
    public void Truncates_long_payloads_and_states_the_full_length()
    {
        var text = Format(new string('a', 20_001));

        Assert.Equal("'" + new string('a', PayloadFormatter.MaxShownBytes) + "'... (20001 bytes)", text);
    }

    [Fact]
    public void A_character_cut_by_truncation_shows_as_bytes()
    {
        var bytes = Encoding.UTF8.GetBytes(new string('a', PayloadFormatter.MaxShownBytes - 1) + "\u00e9");

        Assert.EndsWith(@"a\xc3'... (257 bytes)", Format(bytes), StringComparison.Ordinal);
    }
}
