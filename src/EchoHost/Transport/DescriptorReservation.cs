namespace EchoHost.Transport;

/// <summary>
/// Descriptors a protocol listener other than echo keeps for its connections, registered as a service so that the
/// <see cref="DescriptorBudget"/> leaves them out of what echo may use.
/// </summary>
public sealed record DescriptorReservation(string Listener, int Descriptors);
