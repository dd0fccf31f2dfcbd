using System.Collections;
using EchoHost.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;

namespace EchoHost.Transport.Linux;

/// <summary>
/// A <see cref="LinuxConnection"/>'s features. The connection answers for the features it implements itself, and
/// the dozen or so that Kestrel and the middleware add go into a short list searched in order. Every connection
/// holds one of these for its whole life, idle or not, so it is kept smaller than a
/// <see cref="FeatureCollection"/>'s dictionary. A feature set to null hides the connection's own.
/// </summary>
internal sealed class LinuxConnectionFeatures(LinuxConnection connection) : IFeatureCollection
{
    private readonly List<KeyValuePair<Type, object?>> _added = new(capacity: 8);

    public bool IsReadOnly => false;

    public int Revision { get; private set; }

    public object? this[Type key]
    {
        get
        {
            ArgumentNullException.ThrowIfNull(key);
            var index = IndexOf(key);
            return index >= 0 ? _added[index].Value : Own(key);
        }

        set
        {
            ArgumentNullException.ThrowIfNull(key);
            var index = IndexOf(key);
            if (index >= 0)
            {
                _added[index] = new(key, value);
            }
            else if (value is not null || Own(key) is not null)
            {
                _added.Add(new(key, value));
            }

            Revision++;
        }
    }

    public TFeature? Get<TFeature>() => (TFeature?)this[typeof(TFeature)];

    public void Set<TFeature>(TFeature? instance) => this[typeof(TFeature)] = instance;

    public IEnumerator<KeyValuePair<Type, object>> GetEnumerator()
    {
        foreach (var (key, value) in _added)
        {
            if (value is not null)
            {
                yield return new(key, value);
            }
        }

        foreach (var key in OwnTypes)
        {
            if (IndexOf(key) < 0 && key.IsInstanceOfType(connection))
            {
                yield return new(key, connection);
            }
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private static readonly Type[] OwnTypes =
    [
        typeof(IConnectionIdFeature), typeof(IConnectionTransportFeature), typeof(IConnectionItemsFeature),
        typeof(IMemoryPoolFeature), typeof(IConnectionLifetimeFeature), typeof(IConnectionSocketFeature),
        typeof(IInlineReceiveFeature),
    ];

    private LinuxConnection? Own(Type key) => Array.IndexOf(OwnTypes, key) >= 0 && key.IsInstanceOfType(connection) ? connection : null;

    private int IndexOf(Type key)
    {
        for (var i = 0; i < _added.Count; i++)
        {
            if (_added[i].Key == key)
            {
                return i;
            }
        }

        return -1;
    }
}
