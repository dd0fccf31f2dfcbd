using EchoHost.Shared;
using Microsoft.Win32.SafeHandles;

namespace EchoHost.Transport.Linux;

/// <summary>
/// An accepted socket's descriptor, owned by its connection and held for every call on it, so a number that was
/// closed and given to another socket is never used. Releasing it is a plain close(2), which keeps the orderly end
/// the connection sent; a <see cref="System.Net.Sockets.SafeSocketHandle"/> released other than through its
/// <see cref="System.Net.Sockets.Socket"/> resets the connection instead.
/// </summary>
internal sealed class SocketDescriptor : SafeHandleMinusOneIsInvalid
{
    public SocketDescriptor(nint descriptor)
        : base(ownsHandle: true) => SetHandle(descriptor);

    protected override bool ReleaseHandle() => LinuxCalls.Close((int)handle) == 0;
}
