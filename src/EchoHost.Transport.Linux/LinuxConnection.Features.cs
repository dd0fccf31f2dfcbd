using System.Collections;
using EchoHost.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;

namespace EchoHost.Transport.Linux;

/// <summary>
/// The connection is its own feature collection, as Kestrel's transports are. It answers for the features it
/// implements itself; the half dozen that Kestrel and the middleware add go into an array searched in order, grown
/// two at a time, since every connection holds it for its whole life, idle or not. A feature set to null hides the
/// connection's own.
/// </summary>
internal abstract partial class LinuxConnection : IFeatureCollection
{
    private static readonly Type[] OwnTypes =
    [
        typeof(IConnectionIdFeature), typeof(IConnectionTransportFeature), typeof(IConnectionItemsFeature),
        typeof(IMemoryPoolFeature), typeof(IConnectionLifetimeFeature), typeof(IConnectionSocketFeature),
        typeof(IInlineReceiveFeature), typeof(ISocketOptionFeature),
    ];

    private KeyValuePair<Type, object?>[] _added = [];
    private int _addedCount;
    private int _revision;

    public override IFeatureCollection Features => this;

    bool IFeatureCollection.IsReadOnly => false;

    int IFeatureCollection.Revision => _revision;

    object? IFeatureCollection.this[Type key]
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
                if (_addedCount == _added.Length)
                {
                    Array.Resize(ref _added, _addedCount + 2);
                }

                _added[_addedCount++] = new(key, value);
            }

            _revision++;
        }
    }

    TFeature? IFeatureCollection.Get<TFeature>() where TFeature : default => (TFeature?)Features[typeof(TFeature)];

    void IFeatureCollection.Set<TFeature>(TFeature? instance) where TFeature : default => Features[typeof(TFeature)] = instance;

    IEnumerator<KeyValuePair<Type, object>> IEnumerable<KeyValuePair<Type, object>>.GetEnumerator()
    {
        for (var i = 0; i < _addedCount; i++)
        {
            if (_added[i].Value is { } value)
            {
                yield return new(_added[i].Key, value);
            }
        }

        foreach (var key in OwnTypes)
        {
            if (IndexOf(key) < 0 && key.IsInstanceOfType(this))
            {
                yield return new(key, this);
            }
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => ((IEnumerable<KeyValuePair<Type, object>>)this).GetEnumerator();

    private LinuxConnection? Own(Type key) => Array.IndexOf(OwnTypes, key) >= 0 && key.IsInstanceOfType(this) ? this : null;

    private int IndexOf(Type key)
    {
        for (var i = 0; i < _addedCount; i++)
        {
            if (_added[i].Key == key)
            {
                return i;
            }
        }

        return -1;
    }
}
