namespace EchoHost.Hosting;

public static class EchoHostBuilder
{
    /// <summary>
    /// The builder both the server and the probe start from, so that both read the same configuration: settings
    /// from next to the dll whatever the working directory (dotnet run or a publish folder), then the
    /// environment, then the command line.
    /// </summary>
    public static WebApplicationBuilder Create(string[] args) => WebApplication.CreateBuilder(new WebApplicationOptions
    {
        Args = args,
        ContentRootPath = AppContext.BaseDirectory,
    });
}
