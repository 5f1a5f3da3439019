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

    // NextTime is read at least once per scheduling slice (every few guest blocks under the
    // cycle mode's 20-cycle quantum), events change far more rarely: the answer is kept until
    // the queue changes. Exact: scheduling can only lower it (kept valid), firing or cancelling
    // an event invalidates it.
    private long _nextTime;
    private bool _nextTimeValid;

    /// <summary>Priorities for events due at the same cycle: lower fires first.</summary>
    public static class Priorities
    {
        public const int Timer = 0;
        public const int Device = 10;
        public const int Serial = 20;
    }

    /// <summary>A scheduled callback; cancel it with <see cref="Cancel"/>.</summary>
    public sealed class Event(long time, Action<long> callback, EventQueue owner)
    {
        public long Time { get; } = time;

        internal Action<long> Callback { get; } = callback;

        internal EventQueue Owner { get; } = owner;

        public bool Cancelled { get; internal set; }
    }

    /// <summary>The earliest pending (non-cancelled) event time, or long.MaxValue.</summary>
    public long NextTime
    {
        get
        {
            if (_nextTimeValid)
            {
                return _nextTime;
            }

            _nextTime = FindNextTime();
            _nextTimeValid = true;
            return _nextTime;
        }
    }

    private long FindNextTime()
    {
        while (_queue.TryPeek(out var e, out _) && e.Cancelled)
        {
            _queue.Dequeue();
        }

        return _queue.TryPeek(out var first, out _) ? first.Time : long.MaxValue;
    }

    public int Count => _queue.Count;

    /// <summary>Schedules <paramref name="callback"/> (given the event's due time) at <paramref name="time"/>.</summary>
    public Event Schedule(long time, int priority, Action<long> callback)
    {
        var e = new Event(time, callback, this);
        _queue.Enqueue(e, (time, priority, _sequence++));
        if (_nextTimeValid && time < _nextTime)
        {
            _nextTime = time;
        }

        return e;
    }

    public static void Cancel(Event? e)
    {
        if (e is not null)
        {
            e.Cancelled = true;
            e.Owner._nextTimeValid = false;
        }
    }

    /// <summary>Fires every event due at or before <paramref name="now"/>, in order; returns how many fired.</summary>
    public int RunDue(long now)
    {
        int fired = 0;
        _nextTimeValid = false;
        while (_queue.TryPeek(out var e, out var key) && key.Time <= now)
        {
            _queue.Dequeue();
            if (!e.Cancelled)
            {
                e.Cancelled = true;
                _nextTimeValid = false;
                e.Callback(e.Time);
                fired++;
            }
        }

        return fired;
    }
}
