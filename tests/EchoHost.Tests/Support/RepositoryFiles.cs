namespace EchoHost.Tests.Support;

/// <summary>Files of this repository, found from the test's output folder upwards.</summary>
internal static class RepositoryFiles
{
    public static string Root { get; } = FindRoot();

    public static string PathOf(string relative) => Path.Combine(Root, relative);

    public static string Read(string relative) => File.ReadAllText(PathOf(relative));

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "EchoHost.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("EchoHost.sln not found above " + AppContext.BaseDirectory);
    }
}
