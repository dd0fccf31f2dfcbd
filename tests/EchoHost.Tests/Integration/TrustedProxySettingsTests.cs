using System.Net;
using EchoHost.Configuration;
using Microsoft.Extensions.Configuration;

namespace EchoHost.Tests.Integration;

/// <summary><c>Echo:ProxyProtocolTrustedNetworks</c> as operators write it: a comma-separated value or a JSON array.</summary>
public sealed class TrustedProxySettingsTests
{
    [Fact]
    public void A_comma_separated_value_and_a_json_array_give_the_same_networks_and_a_bare_address_is_one_host()
    {
        var fromList = Read(("Echo:ProxyProtocolTrustedNetworks", " 10.0.0.0/8, fd00::/8 ,192.168.1.7"));
        var fromArray = Read(
            ("Echo:ProxyProtocolTrustedNetworks:0", "10.0.0.0/8"),
            ("Echo:ProxyProtocolTrustedNetworks:1", "fd00::/8"),
            ("Echo:ProxyProtocolTrustedNetworks:2", "192.168.1.7"));

        IPNetwork[] expected = [IPNetwork.Parse("10.0.0.0/8"), IPNetwork.Parse("fd00::/8"), IPNetwork.Parse("192.168.1.7/32")];
        Assert.Equal(expected, fromList);
        Assert.Equal(expected, fromArray);
        Assert.Empty(Read());
    }

    private static IReadOnlyList<IPNetwork> Read(params (string Key, string Value)[] settings) =>
        SettingsReader.Read(new ConfigurationBuilder().AddInMemoryCollection(settings.Select(s => KeyValuePair.Create(s.Key, (string?)s.Value))).Build())
            .Echo.ProxyProtocolTrustedNetworks;
}
