namespace EchoHost.Tests.Support;

/// <summary>A private copy of the host's folder, to put extra appsettings files next to its dll.</summary>
internal sealed class HostDirectory : IDisposable
{
    private HostDirectory(string path) => Path = path;

    public string Path { get; }

    public static HostDirectory Create()
    {
        var copy = new HostDirectory(Directory.CreateTempSubdirectory("echohost-").FullName);
        foreach (var file in Directory.EnumerateFiles(AppContext.BaseDirectory))
        {
            File.Copy(file, System.IO.Path.Combine(copy.Path, System.IO.Path.GetFileName(file)));
        }

        return copy;
    }

    public void Write(string fileName, string content) => File.WriteAllText(System.IO.Path.Combine(Path, fileName), content);

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
