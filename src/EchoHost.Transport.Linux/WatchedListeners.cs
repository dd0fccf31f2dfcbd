using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;

namespace EchoHost.Transport.Linux;

/// <summary>
/// The listening sockets a reactor watches, each found by the key its events carry: the top bit, which no connection's
/// token has (<see cref="ConnectionTable{T}"/>), and a slot. Few and long-lived, so a lock guards every change and a
/// lookup reads the current array.
/// </summary>
internal sealed class WatchedListeners
{
    private const ulong ListenerBit = 1UL << 63;
    private readonly Lock _gate = new();
    private readonly ConcurrentQueue<ListenerReadiness> _requeued = new();
    private ListenerReadiness?[] _slots = [];

    public static bool IsListener(ulong key) => (key & ListenerBit) != 0;

    /// <summary>Gives the listener its <see cref="ListenerReadiness.Key"/>.</summary>
    public void Add(ListenerReadiness listener)
    {
        lock (_gate)
        {
            var slot = Array.IndexOf(_slots, null);
            if (slot < 0)
            {
                slot = _slots.Length;
                var larger = new ListenerReadiness?[slot + 1];
                _slots.CopyTo(larger, 0);
                Volatile.Write(ref _slots, larger);
            }

            listener.Key = ListenerBit | (uint)slot;
            _slots[slot] = listener;
        }
    }

    public bool TryGet(ulong key, [NotNullWhen(true)] out ListenerReadiness? listener)
    {
        var slots = Volatile.Read(ref _slots);
        var slot = key & ~ListenerBit;
        listener = slot < (ulong)slots.Length ? slots[slot] : null;
        return listener is not null && listener.Key == key;
    }

    public void Remove(ListenerReadiness listener)
    {
        lock (_gate)
        {
            if (TryGet(listener.Key, out var found) && found == listener)
            {
                _slots[listener.Key & ~ListenerBit] = null;
            }
        }
    }

    /// <summary>Queues the listener to be set by <see cref="SetRequeued"/>; its reactor wakes itself for it.</summary>
    public void Requeue(ListenerReadiness listener) => _requeued.Enqueue(listener);

    /// <summary>
    /// On the reactor's thread, once per turn after its events: sets the listeners requeued before this call, not one
    /// that yields again meanwhile, which waits for the next turn.
    /// </summary>
    public void SetRequeued()
    {
        for (var requeued = _requeued.Count; requeued > 0 && _requeued.TryDequeue(out var listener); requeued--)
        {
            listener.Set();
        }
    }

    /// <summary>Takes every listener out and stops it, for a reactor that stops: their accepts end.</summary>
    public void StopAll()
    {
        ListenerReadiness?[] slots;
        lock (_gate)
        {
            slots = _slots;
            Volatile.Write(ref _slots, []);
        }

        foreach (var listener in slots)
        {
            listener?.Stop();
        }
    }
}
