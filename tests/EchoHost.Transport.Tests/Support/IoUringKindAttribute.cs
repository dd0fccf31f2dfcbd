using System.Reflection;
using EchoHost.Transport.Linux;
using Xunit.Sdk;

namespace EchoHost.Transport.Tests.Support;

/// <summary>
/// The io_uring engine as one more transport of a conformance theory; where this machine refuses io_uring, its
/// cases are skipped with the reason (seccomp, io_uring_disabled, an older kernel).
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class IoUringKindAttribute : DataAttribute
{
    public IoUringKindAttribute()
    {
        if (IoUringSupport.Unavailable() is { } reason)
        {
            Skip = $"The io_uring engine cannot run here: {reason}.";
        }
    }

    public override IEnumerable<object[]> GetData(MethodInfo testMethod) => [["IoUring"]];
}
