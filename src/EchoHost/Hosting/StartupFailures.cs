using EchoHost.Configuration;
using EchoHost.Connections.Tls;

namespace EchoHost.Hosting;

/// <summary>
/// Runs a host and turns what keeps it from starting into one line on standard error and its exit code: a setting
/// (2), a settings file that is not JSON (2), a certificate that cannot be loaded (2), a port that cannot be bound (1).
/// Every host program built on EchoHost's pieces ends the same way.
/// </summary>
public static class StartupFailures
{
    public static async Task<int> ReportAsync(TextWriter error, Func<Task<int>> run)
    {
        ArgumentNullException.ThrowIfNull(error);
        ArgumentNullException.ThrowIfNull(run);
        try
        {
            return await run();
        }
        catch (InvalidSettingsException ex)
        {
            await error.WriteLineAsync($"EchoHost cannot start. {ex.Message}");
            return ExitCodes.InvalidSettings;
        }
        catch (InvalidDataException ex) when (ex.InnerException is FormatException)
        {
            // A settings file that is not JSON (a trailing comma, a broken ConfigMap): the file and the place, in one line.
            await error.WriteLineAsync($"EchoHost cannot start. Invalid configuration: {ex.Message.TrimEnd('.')}: {ex.GetBaseException().Message}");
            return ExitCodes.InvalidSettings;
        }
        catch (CertificateLoadException ex)
        {
            await error.WriteLineAsync($"EchoHost cannot start. Invalid configuration: Echo:Tls:Certificate: {ex.Message.TrimEnd('.')}.");
            return ExitCodes.InvalidSettings;
        }
        catch (BindFailure ex)
        {
            await error.WriteLineAsync($"EchoHost cannot start. {ex.Message}");
            return ExitCodes.CannotListen;
        }
    }
}
