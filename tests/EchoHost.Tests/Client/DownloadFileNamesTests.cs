using EchoHost.Client.Fetch;

namespace EchoHost.Tests.Client;

public sealed class DownloadFileNamesTests
{
    [Theory]
    [InlineData("http://google.com", "google.com_index")]
    [InlineData("https://example.org/docs/", "example.org_docs_index")]
    [InlineData("https://a.org/x/y.html", "a.org_x_y.html")]
    [InlineData("http://127.0.0.1:8080/page/a?size=10&delay=5", "127.0.0.1_8080_page_a_size_10_delay_5")]
    [InlineData("https://h.io/%E6%97%A5 name", "h.io__E6_97_A5_20name")]
    public void Names_come_from_host_path_and_query_made_safe(string url, string expected)
    {
        Assert.Equal(expected, new DownloadFileNames().NameFor(new Uri(url)));
    }

    [Fact]
    public void Names_never_repeat_in_one_run()
    {
        var names = new DownloadFileNames();

        Assert.Equal("a.org_x.html", names.NameFor(new Uri("https://a.org/x.html")));
        Assert.Equal("a.org_x-2.html", names.NameFor(new Uri("https://a.org/x.html")));
        Assert.Equal("a.org_x-3.html", names.NameFor(new Uri("http://a.org/x.html")));
        Assert.Equal("a.org_x-2-2.html", names.NameFor(new Uri("https://a.org/x-2.html")));
    }

    [Fact]
    public void Long_names_are_shortened_and_stay_distinct()
    {
        var names = new DownloadFileNames();
        var first = names.NameFor(new Uri("https://a.org/" + new string('p', 300) + "/one.html"));
        var second = names.NameFor(new Uri("https://a.org/" + new string('p', 300) + "/two.html"));

        Assert.True(first.Length <= 120);
        Assert.EndsWith("one.html", first, StringComparison.Ordinal);
        Assert.NotEqual(first, second);
    }
}
