using EchoHost.Connections.Protocols;
using Microsoft.AspNetCore.Connections;

namespace UpperCaseHost;

public sealed class UpperCaseProtocolFactory : IConnectionProtocolFactory
{
    public IConnectionProtocol Create(ConnectionContext connection) => new UpperCaseProtocol();
}
