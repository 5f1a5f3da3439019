namespace Emulator.Platform;

/// <summary>
/// Device events on the machine's global time line (cycles of the nominal clock). Events fire in
/// (time, priority, sequence) order, as gem5's event queue orders them, so that two events due at
/// the same cycle always fire in the same order and a run is reproducible bit for bit.
/// Not thread-safe: only the emulator thread schedules and runs events.
/// </summary>
public sealed class EventQueue
{
    private readonly PriorityQueue<Event, (long Time, int Priority, long Sequence)> _queue = new();
    private long _sequence;

    /// <summary>Priorities for events due at the same cycle: lower fires first.</summary>
    public static class Priorities
    {
        public const int Timer = 0;
        public const int Device = 10;
        public const int Serial = 20;
    }

    /// <summary>A scheduled callback; cancel it with <see cref="Cancel"/>.</summary>
    public sealed class Event(long time, Action<long> callback)
    {
        public long Time { get; } = time;

        internal Action<long> Callback { get; } = callback;

        public bool Cancelled { get; internal set; }
    }

    /// <summary>The earliest pending (non-cancelled) event time, or long.MaxValue.</summary>
    public long NextTime
    {
        get
        {
            while (_queue.TryPeek(out var e, out _) && e.Cancelled)
            {
                _queue.Dequeue();
            }

            return _queue.TryPeek(out var first, out _) ? first.Time : long.MaxValue;
        }
    }

    public int Count => _queue.Count;

    /// <summary>Schedules <paramref name="callback"/> (given the event's due time) at <paramref name="time"/>.</summary>
    public Event Schedule(long time, int priority, Action<long> callback)
    {
        var e = new Event(time, callback);
        _queue.Enqueue(e, (time, priority, _sequence++));
        return e;
    }

    public static void Cancel(Event? e)
    {
        if (e is not null)
        {
            e.Cancelled = true;
        }
    }

    /// <summary>Fires every event due at or before <paramref name="now"/>, in order; returns how many fired.</summary>
    public int RunDue(long now)
    {
        int fired = 0;
        while (_queue.TryPeek(out var e, out var key) && key.Time <= now)
        {
            _queue.Dequeue();
            if (!e.Cancelled)
            {
                e.Cancelled = true;
                e.Callback(e.Time);
                fired++;
            }
        }

        return fired;
    }
}
