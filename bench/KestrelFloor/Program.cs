using System.Buffers;
using EchoHost.Transport.Linux;
using Microsoft.AspNetCore.Connections;

// KestrelFloor PORT epoll|io_uring|sockets: listens on 127.0.0.1:PORT and holds every connection it accepts, reading
// nothing, until the process stops. Each connection waits on one task shared by all, so what it costs is Kestrel's
// and the transport's alone.
if (args is not [var portText, var transport] || !int.TryParse(portText, out var port) || transport is not ("epoll" or "io_uring" or "sockets"))
{
    Console.Error.WriteLine("usage: KestrelFloor PORT epoll|io_uring|sockets");
    return 2;
}

var never = new TaskCompletionSource().Task;
var builder = WebApplication.CreateSlimBuilder();
builder.Logging.ClearProviders();
if (transport != "sockets")
{
    var engine = transport == "io_uring" ? LinuxEngine.IoUring : LinuxEngine.Epoll;
    var options = new LinuxTransportOptions(MemoryPool<byte>.Shared, 64 * 1024, 64 * 1024, Threads: 1) { Engine = engine };
    builder.Services.AddSingleton<IConnectionListenerFactory>(services =>
        new LinuxTransportFactory(options, TimeProvider.System, services.GetRequiredService<ILoggerFactory>()));
}

builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(System.Net.IPAddress.Loopback, port, listen => listen.Run(_ => never)));
var app = builder.Build();
await app.StartAsync();
Console.WriteLine($"KestrelFloor holding connections on 127.0.0.1:{port} ({transport})");
await app.WaitForShutdownAsync();
return 0;
