using EchoHost.Transport.Linux;

namespace EchoHost.Transport.Tests.Support;

/// <summary>A test of the Linux transport alone, skipped with its reason where that transport cannot run.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class LinuxTransportFactAttribute : FactAttribute
{
    public LinuxTransportFactAttribute()
    {
        if (!LinuxTransportFactory.IsSupported)
        {
            Skip = "The Linux transport runs on Linux x86-64 only.";
        }
    }
}
