using Microsoft.AspNetCore.Connections;

namespace EchoHost.Connections.Protocols;

/// <summary>Makes the protocol object for one connection; resolved once per listener, called once per connection.</summary>
public interface IConnectionProtocolFactory
{
    IConnectionProtocol Create(ConnectionContext connection);
}
