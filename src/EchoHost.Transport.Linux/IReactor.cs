using System.Net.Sockets;

namespace EchoHost.Transport.Linux;

/// <summary>One thread of the Linux transport serving many connections, whichever engine it runs.</summary>
internal interface IReactor : IDisposable
{
    /// <summary>A connection of this reactor for an accepted socket; <see cref="LinuxConnection.Start"/> joins it.</summary>
    LinuxConnection Connect(Socket accepted);
}
