using System.Globalization;
using System.Net;
using EchoHost.Connections.Tls;
using EchoHost.Echo;
using EchoHost.Shared;
using EchoHost.Transport;
using EchoHost.Transport.Linux;

namespace EchoHost.Configuration;

/// <summary>
/// Reads the <c>Echo</c> and <c>Health</c> sections by hand rather than with the binder, so that every
/// problem is reported with its key and the value as given, all at once, and unknown keys are not ignored.
/// </summary>
public sealed class SettingsReader
{
    private static readonly string[] EchoKeys =
    [
        nameof(EchoOptions.Port), nameof(EchoOptions.Address), nameof(EchoOptions.Mode),
        nameof(EchoOptions.ReplyPrefix), nameof(EchoOptions.CloseAfterReply), nameof(EchoOptions.Framing),
        nameof(EchoOptions.MaxLineBytes), nameof(EchoOptions.IdleTimeout), nameof(EchoOptions.WriteTimeout),
        nameof(EchoOptions.MaxConnections), nameof(EchoOptions.MemoryBudget), nameof(EchoOptions.ProxyProtocol), nameof(EchoOptions.ProxyProtocolTimeout),
        nameof(EchoOptions.ProxyProtocolTrustedNetworks), TlsSection,
    ];

    private const string TlsSection = "Tls";
    private const string CertificateSection = "Certificate";

    private static readonly string[] TlsKeys = [CertificateSection];

    private static readonly string[] CertificateKeys = [nameof(CertificateFiles.Path), nameof(CertificateFiles.KeyPath), nameof(CertificateFiles.Password)];

    private static readonly string[] HealthKeys = [nameof(HealthOptions.Port)];

    private static readonly string[] MetricsKeys = [nameof(MetricsOptions.Enabled)];

    private static readonly string[] TransportKeys = [nameof(TransportOptions.Kind), nameof(TransportOptions.Threads)];

    private static readonly string[] ListenerKeys =
    [
        nameof(ProtocolListenerSettings.Port), nameof(ProtocolListenerSettings.Address), nameof(ProtocolListenerSettings.MaxConnections),
        nameof(ProtocolListenerSettings.IdleTimeout), nameof(ProtocolListenerSettings.WriteTimeout),
    ];

    private const string HostOptionsSection = "HostOptions";

    private static readonly string[] HostOptionsKeys =
    [
        nameof(HostOptions.ShutdownTimeout), nameof(HostOptions.StartupTimeout), nameof(HostOptions.ServicesStartConcurrently),
        nameof(HostOptions.ServicesStopConcurrently), nameof(HostOptions.BackgroundServiceExceptionBehavior),
    ];

    private static readonly string[] Sections =
        [EchoOptions.SectionName, HealthOptions.SectionName, MetricsOptions.SectionName, TransportOptions.SectionName, HostOptionsSection];

    private readonly List<string> _problems = [];

    private SettingsReader()
    {
    }

    /// <param name="listenerSections">The sections of protocol listeners registered next to echo: a name one or two
    /// letters off one of them is a typo too.</param>
    /// <exception cref="InvalidSettingsException">Any value is invalid or any key unknown.</exception>
    public static EchoHostSettings Read(IConfiguration configuration, IEnumerable<string>? listenerSections = null)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var reader = new SettingsReader();
        reader.RejectMisspelledSections(configuration, [.. Sections, .. listenerSections ?? []]);
        reader.RejectUnknownKeys(configuration.GetSection(HostOptionsSection), HostOptionsKeys);
        var echoSection = configuration.GetSection(EchoOptions.SectionName);
        var healthSection = configuration.GetSection(HealthOptions.SectionName);
        reader.RejectUnknownKeys(echoSection, EchoKeys);
        reader.RejectUnknownKeys(healthSection, HealthKeys);
        var metricsSection = configuration.GetSection(MetricsOptions.SectionName);
        reader.RejectUnknownKeys(metricsSection, MetricsKeys);
        var metrics = new MetricsOptions { Enabled = reader.Boolean(metricsSection, nameof(MetricsOptions.Enabled), new MetricsOptions().Enabled) };
        var transportSection = configuration.GetSection(TransportOptions.SectionName);
        reader.RejectUnknownKeys(transportSection, TransportKeys);
        var kind = reader.Enum(transportSection, nameof(TransportOptions.Kind), new TransportOptions().Kind);
        var ioUringUnavailable = kind is TransportKind.IoUring or TransportKind.Auto ? IoUringSupport.Unavailable() : null;
        var transport = new TransportOptions
        {
            Kind = kind,
            Threads = reader.Integer(transportSection, nameof(TransportOptions.Threads), new TransportOptions().Threads, 1, 256),
            IoUringUnavailable = ioUringUnavailable,
        };
        if (kind != TransportKind.Sockets && !LinuxTransportFactory.IsSupported)
        {
            reader._problems.Add($"Transport:Kind is '{kind}', but EchoHost's Linux transport runs on Linux x86-64 only; use Sockets.");
        }
        else if (kind == TransportKind.IoUring && ioUringUnavailable is not null)
        {
            reader._problems.Add($"Transport:Kind is 'IoUring', but {ioUringUnavailable}; use Auto (io_uring where it runs, else epoll) or Linux (epoll).");
        }

        var tlsSection = echoSection.GetSection(TlsSection);
        reader.RejectUnknownKeys(tlsSection, TlsKeys);
        reader.RejectUnknownKeys(tlsSection.GetSection(CertificateSection), CertificateKeys);

        var defaults = new EchoOptions();
        var echo = new EchoOptions
        {
            Port = reader.Port(echoSection, nameof(EchoOptions.Port), defaults.Port),
            Address = reader.Address(echoSection, nameof(EchoOptions.Address)),
            Mode = reader.Enum(echoSection, nameof(EchoOptions.Mode), defaults.Mode),
            ReplyPrefix = echoSection[nameof(EchoOptions.ReplyPrefix)] ?? defaults.ReplyPrefix,
            CloseAfterReply = reader.Boolean(echoSection, nameof(EchoOptions.CloseAfterReply), defaults.CloseAfterReply),
            Framing = reader.Enum(echoSection, nameof(EchoOptions.Framing), defaults.Framing),
            MaxLineBytes = reader.Integer(echoSection, nameof(EchoOptions.MaxLineBytes), defaults.MaxLineBytes, 1, int.MaxValue),
            IdleTimeout = reader.Duration(echoSection, nameof(EchoOptions.IdleTimeout), defaults.IdleTimeout, "00:00:00 disables it"),
            WriteTimeout = reader.Duration(echoSection, nameof(EchoOptions.WriteTimeout), defaults.WriteTimeout, "00:00:00 disables it"),
            MaxConnections = reader.Integer(echoSection, nameof(EchoOptions.MaxConnections), defaults.MaxConnections, 1, int.MaxValue),
            MemoryBudget = reader.Size(echoSection, nameof(EchoOptions.MemoryBudget)),
            ProxyProtocol = reader.Enum(echoSection, nameof(EchoOptions.ProxyProtocol), defaults.ProxyProtocol),
            ProxyProtocolTimeout = reader.Duration(echoSection, nameof(EchoOptions.ProxyProtocolTimeout), defaults.ProxyProtocolTimeout, zeroMeans: null),
            ProxyProtocolTrustedNetworks = reader.Networks(echoSection, nameof(EchoOptions.ProxyProtocolTrustedNetworks)),
            TlsCertificate = reader.Certificate(tlsSection.GetSection(CertificateSection)),
        };
        var health = new HealthOptions
        {
            Port = reader.Port(healthSection, nameof(HealthOptions.Port), new HealthOptions().Port),
        };
        var shutdownTimeout = reader.Duration(
            configuration.GetSection(HostOptionsSection), nameof(HostOptions.ShutdownTimeout), EchoHostSettings.DefaultShutdownTimeout, "00:00:00 aborts at once");

        if (echo.Port != 0 && echo.Port == health.Port)
        {
            reader._problems.Add($"Health:Port is '{health.Port}', the same as Echo:Port; the two listeners need different ports.");
        }

        return reader._problems.Count == 0 ? new EchoHostSettings(echo, health, shutdownTimeout, metrics, transport) : throw new InvalidSettingsException(reader._problems);
    }

    /// <summary>A protocol listener's section, over the defaults its registration gives.</summary>
    /// <exception cref="InvalidSettingsException">Any value is invalid or any key unknown.</exception>
    public static ProtocolListenerSettings ReadListener(IConfiguration configuration, ProtocolListenerSettings defaults)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(defaults);
        var reader = new SettingsReader();
        var section = configuration.GetSection(defaults.Name);
        reader.RejectUnknownKeys(section, ListenerKeys);
        var settings = defaults with
        {
            Port = reader.Port(section, nameof(ProtocolListenerSettings.Port), defaults.Port),
            Address = section[nameof(ProtocolListenerSettings.Address)] is null ? defaults.Address : reader.Address(section, nameof(ProtocolListenerSettings.Address)),
            MaxConnections = reader.Integer(section, nameof(ProtocolListenerSettings.MaxConnections), defaults.MaxConnections, 1, int.MaxValue),
            IdleTimeout = reader.Duration(section, nameof(ProtocolListenerSettings.IdleTimeout), defaults.IdleTimeout, "00:00:00 disables it"),
            WriteTimeout = reader.Duration(section, nameof(ProtocolListenerSettings.WriteTimeout), defaults.WriteTimeout, "00:00:00 disables it"),
        };
        return reader._problems.Count == 0 ? settings : throw new InvalidSettingsException(reader._problems);
    }

    // A section name one or two letters off one of ours (--Helth:Port=9001) would otherwise be ignored, its settings
    // silently left at their defaults. Only sections count: the environment's plain variables are top-level keys too.
    private void RejectMisspelledSections(IConfiguration configuration, string[] sections)
    {
        foreach (var child in configuration.GetChildren())
        {
            if (!sections.Contains(child.Key, StringComparer.OrdinalIgnoreCase) && child.GetChildren().Any()
                && Spelling.Closest(child.Key, sections) is { } meant)
            {
                var example = child.GetChildren().First().Path;
                _problems.Add($"{example} is set, but EchoHost has no {child.Key} section; did you mean {meant}?");
            }
        }
    }

    private void RejectUnknownKeys(IConfigurationSection section, string[] known)
    {
        foreach (var child in section.GetChildren())
        {
            if (!known.Contains(child.Key, StringComparer.OrdinalIgnoreCase))
            {
                var guess = Spelling.Closest(child.Key, known) is { } closest ? $" did you mean {section.Path}:{closest}?" : "";
                _problems.Add($"{child.Path} is not a setting;{guess} {section.Path} has {string.Join(", ", known)}.");
            }
        }
    }

    private int Port(IConfigurationSection section, string key, int fallback) =>
        Integer(section, key, fallback, IPEndPoint.MinPort, IPEndPoint.MaxPort);

    private int Integer(IConfigurationSection section, string key, int fallback, int min, int max)
    {
        var raw = section[key];
        if (raw is null)
        {
            return fallback;
        }

        if (int.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max)
        {
            return value;
        }

        return Problem(section, key, raw, $"a whole number from {min} to {max}", fallback);
    }

    private bool Boolean(IConfigurationSection section, string key, bool fallback)
    {
        var raw = section[key];
        if (raw is null)
        {
            return fallback;
        }

        return bool.TryParse(raw, out var value) ? value : Problem(section, key, raw, "true or false", fallback);
    }

    private TEnum Enum<TEnum>(IConfigurationSection section, string key, TEnum fallback)
        where TEnum : struct, Enum
    {
        var raw = section[key];
        if (raw is null)
        {
            return fallback;
        }

        // Names only: Enum.TryParse would also take "1" or "0x7".
        var name = System.Enum.GetNames<TEnum>().FirstOrDefault(n => n.Equals(raw.Trim(), StringComparison.OrdinalIgnoreCase));
        return name is null
            ? Problem(section, key, raw, "one of " + string.Join(", ", System.Enum.GetNames<TEnum>()), fallback)
            : System.Enum.Parse<TEnum>(name);
    }

    /// <param name="zeroMeans">What zero does, when zero is allowed; null when the duration must be above zero.</param>
    private TimeSpan Duration(IConfigurationSection section, string key, TimeSpan fallback, string? zeroMeans)
    {
        var raw = section[key];
        if (raw is null)
        {
            return fallback;
        }

        var problem = DurationText.TryParse(raw, out var value) ?? (zeroMeans is not null || value > TimeSpan.Zero ? null : "it must be above zero");
        return problem is null ? value : Explained(section, key, raw, zeroMeans is null ? problem : $"{problem}; {zeroMeans}", fallback);
    }

    // Bytes, plainly or with a binary unit: 1048576, 1024KiB, 64MiB, 1GiB.
    private long? Size(IConfigurationSection section, string key)
    {
        var raw = section[key]?.Trim();
        if (string.IsNullOrEmpty(raw))
        {
            return null;
        }

        (string Suffix, long Factor)[] units = [("GiB", 1L << 30), ("MiB", 1L << 20), ("KiB", 1L << 10), (string.Empty, 1)];
        var (suffix, factor) = units.First(u => raw.EndsWith(u.Suffix, StringComparison.OrdinalIgnoreCase));
        var number = raw[..^suffix.Length].Trim();
        return long.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value > 0 && value <= long.MaxValue / factor
            ? value * factor
            : Problem<long?>(section, key, raw, "a size in bytes above zero, plain or with KiB, MiB or GiB (64MiB)", null);
    }

    private CertificateFiles? Certificate(IConfigurationSection section)
    {
        string? Value(string key) => string.IsNullOrWhiteSpace(section[key]) ? null : section[key];

        var path = Value(nameof(CertificateFiles.Path));
        if (path is null)
        {
            foreach (var key in new[] { nameof(CertificateFiles.KeyPath), nameof(CertificateFiles.Password) }.Where(k => Value(k) is not null))
            {
                _problems.Add($"{section.Path}:{key} is set but {section.Path}:Path is not; set Path to turn TLS on.");
            }

            return null;
        }

        return new CertificateFiles(path, Value(nameof(CertificateFiles.KeyPath)), section[nameof(CertificateFiles.Password)]);
    }

    private IPAddress? Address(IConfigurationSection section, string key)
    {
        var raw = section[key]?.Trim();
        switch (raw)
        {
            case null or "" or "*":
                return null;
            case var _ when raw.Equals("localhost", StringComparison.OrdinalIgnoreCase):
                return IPAddress.Loopback;
        }

        // IPAddress.TryParse also reads "1" as 0.0.0.1; an address worth binding has dots or colons.
        return raw.AsSpan().ContainsAny('.', ':') && IPAddress.TryParse(raw, out var address)
            ? address
            : Problem<IPAddress?>(section, key, raw, "an IP address, 'localhost', or empty or '*' for all interfaces", null);
    }

    // A comma-separated list ("10.0.0.0/8, fd00::/8") or, from appsettings, a JSON array; a bare address is one host.
    private List<IPNetwork> Networks(IConfigurationSection section, string key)
    {
        var child = section.GetSection(key);
        var items = child.Value is { } list
            ? list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            : child.GetChildren().Select(c => c.Value?.Trim() ?? "").ToArray();
        var networks = new List<IPNetwork>();
        foreach (var item in items)
        {
            if (IPNetwork.TryParse(item, out var network))
            {
                // The parser clears bits past the prefix; a list that set them meant something else.
                if (network.BaseAddress.Equals(IPAddress.Parse(item[..item.IndexOf('/', StringComparison.Ordinal)])))
                {
                    networks.Add(network);
                }
                else
                {
                    _problems.Add($"{section.Path}:{key} has '{item}': not a network, it has address bits set past the /{network.PrefixLength} prefix; did you mean {network}?");
                }
            }
            else if (!item.Contains('/', StringComparison.Ordinal) && item.AsSpan().ContainsAny('.', ':') && IPAddress.TryParse(item, out var host))
            {
                networks.Add(new IPNetwork(host, host.GetAddressBytes().Length * 8));
            }
            else
            {
                _problems.Add($"{section.Path}:{key} has '{item}': not an IP address or a network in CIDR form (10.0.0.0/8, fd00::/8).");
            }
        }

        return networks;
    }

    private T Explained<T>(IConfigurationSection section, string key, string raw, string problem, T fallback)
    {
        _problems.Add($"{section.Path}:{key} is '{raw}': {problem}.");
        return fallback;
    }

    private T Problem<T>(IConfigurationSection section, string key, string raw, string expected, T fallback)
    {
        _problems.Add($"{section.Path}:{key} is '{raw}'; expected {expected}.");
        return fallback;
    }
}
