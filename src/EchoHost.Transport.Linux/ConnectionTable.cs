using System.Diagnostics.CodeAnalysis;

namespace EchoHost.Transport.Linux;

/// <summary>
/// A reactor's connections, each in a slot. The token an epoll event or ring completion carries is the slot and
/// the generation it was taken in, so finding the connection is one array read on the reactor's thread, and a token
/// that outlived its connection finds nothing even once the slot holds another. Adding and removing take a lock:
/// they happen once per connection, on any thread.
/// </summary>
internal sealed class ConnectionTable<T>
    where T : LinuxConnection
{
    // Slot numbers start at 1, so no token is 0; 2^24 slots is more than the descriptors a process may hold. The
    // generation wraps after 2^37 connections; of the three bits left over, a ring's user data keeps two for the
    // operation, and the top one marks a listening socket's key in both engines (WatchedListeners).
    private const int SlotBits = 24;
    private const ulong SlotMask = (1UL << SlotBits) - 1;
    private const ulong GenerationMask = (1UL << 37) - 1;
    private readonly Lock _gate = new();
    private readonly Stack<int> _free = new();
    private T?[] _slots = new T?[64];
    private ulong _generation;
    private int _used;
    private int _count;

    public bool IsEmpty => Volatile.Read(ref _count) == 0;

    /// <summary>Gives <paramref name="connection"/> its <see cref="LinuxConnection.Token"/>, which finds it until it is removed.</summary>
    public void Add(T connection)
    {
        lock (_gate)
        {
            if (!_free.TryPop(out var slot))
            {
                slot = _used++;
                if (slot == _slots.Length)
                {
                    var larger = new T?[_slots.Length * 2];
                    _slots.CopyTo(larger, 0);
                    Volatile.Write(ref _slots, larger);
                }
            }

            _generation = (_generation + 1) & GenerationMask;
            connection.Token = (_generation << SlotBits) | (uint)(slot + 1);
            _slots[slot] = connection;
            _count++;
        }
    }

    /// <summary>Reads the current array, so it may run beside <see cref="Add"/>; a connection is found once <see cref="Add"/> has given it its token.</summary>
    public bool TryGet(ulong token, [NotNullWhen(true)] out T? connection)
    {
        var slots = Volatile.Read(ref _slots);
        var slot = (token & SlotMask) - 1;
        connection = slot < (ulong)slots.Length ? slots[slot] : null;
        return connection is not null && connection.Token == token;
    }

    public void Remove(ulong token)
    {
        lock (_gate)
        {
            var slot = (int)(token & SlotMask) - 1;
            if (slot >= 0 && slot < _used && _slots[slot] is { } connection && connection.Token == token)
            {
                _slots[slot] = null;
                _free.Push(slot);
                _count--;
            }
        }
    }

    /// <summary>The connections in the table now, for a stop that walks them while they remove themselves.</summary>
    public List<T> Snapshot()
    {
        lock (_gate)
        {
            var connections = new List<T>(_count);
            foreach (var connection in _slots.AsSpan(0, _used))
            {
                if (connection is not null)
                {
                    connections.Add(connection);
                }
            }

            return connections;
        }
    }

    public void Clear()
    {
        lock (_gate)
        {
            Array.Clear(_slots);
            _free.Clear();
            _used = 0;
            _count = 0;
        }
    }
}
