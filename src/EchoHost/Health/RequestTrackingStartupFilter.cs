using EchoHost.Transport;

namespace EchoHost.Health;

/// <summary>
/// First in the HTTP pipeline: marks the connection busy while a request is in progress, so that a full health
/// listener closes only connections between requests (<see cref="ConnectionEviction"/>).
/// </summary>
public sealed class RequestTrackingStartupFilter : IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use(async (context, nextMiddleware) =>
        {
            if (context.Features.Get<EvictableConnection>() is not { } connection)
            {
                await nextMiddleware(context);
                return;
            }

            connection.RequestStarted();
            try
            {
                await nextMiddleware(context);
            }
            finally
            {
                connection.RequestEnded();
            }
        });
        next(app);
    };
}
