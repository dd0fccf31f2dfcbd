namespace EchoHost.Tests.Support;

/// <summary>
/// Tests that measure time or memory, or load the machine, run in this collection: after the others and
/// one at a time, so that neither they nor their neighbours are disturbed on a small shared machine.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialTests
{
    public const string Name = "Serial: timing, memory and load";
}
