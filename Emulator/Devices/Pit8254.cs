using Emulator.Platform;

namespace Emulator.Devices;

/// <summary>
/// The Intel 8254 programmable interval timer at ports 0x40-0x43: three 16-bit down counters
/// clocked at 1.193182 MHz, channel 0 driving IRQ0.
/// </summary>
/// <remarks>
/// <para>
/// Ports (offsets from the base): 0-2 the counters of channels 0-2, 3 the control word register
/// (write only; reads return 0, as in QEMU). Control words select a channel's access mode
/// (lobyte, hibyte, lobyte then hibyte), its mode (0-5; 6 and 7 are 2 and 3) and binary or BCD
/// counting; SC = 11 is the read-back command, RW = 00 the counter latch command. Reads and
/// writes of a lobyte/hibyte channel have separate byte flip-flops; a latched count (from the
/// latch or read-back command) is read LSB first, and a latched status byte is read before it.
/// </para>
/// <para>
/// Nothing is polled: the counters are functions of the time line. The channel's state records
/// the PIT clock tick at which its count was loaded, and the count, the OUT level and the null
/// count flag at any later time are computed from the elapsed ticks (see <see cref="PitClock"/>).
/// As on the chip, a count written is loaded on the next PIT clock tick, so a mode 0 count of N
/// raises OUT N + 1 ticks after the write. Counting stops while the gate is low in modes 0, 2, 3
/// and 4; in modes 1 and 5 a rising gate edge (re)triggers the count; in modes 2 and 3 a rising
/// gate edge reloads it. Channels 0 and 1 have their gate tied high; channel 2's gate is driven by
/// <see cref="SetGate"/> (port 0x61 bit 0, see <see cref="SystemControlPortB"/>).
/// </para>
/// <para>
/// Channel 0's OUT drives the IRQ0 line as one pulse (<c>SetLevel(true)</c> then
/// <c>SetLevel(false)</c>) at every rising edge of OUT: once per period in modes 2 and 3, at
/// the terminal count in modes 0 and 1, at the end of the strobe in modes 4 and 5, and when
/// programming raises OUT (a control word for modes 1-5 written while OUT is low). The line
/// rests low between pulses, which is what an edge-triggered 8259 or IOAPIC pin sees of the real
/// OUT signal. Each rising edge is an <see cref="EventQueue"/> event at the exact cycle of its
/// PIT clock tick; events that are due when the guest accesses the PIT are run first, so the
/// state a port access sees is always up to date.
/// </para>
/// <para>
/// Deviations: a new count written while a mode 3 channel counts takes effect at the end of the
/// current period (the chip loads it at the end of the current half-period); a mode 2 or 3 count
/// of 1 (illegal on the chip) gives no output edges; the gate is sampled at PIT clock ticks
/// rather than on the chip's rising and falling clock edges. Until programmed, every channel is
/// idle in mode 3 with OUT high (the chip's power-on state is undefined; QEMU's firmware leaves
/// channel 0 counting in mode 2, which <see cref="ProgramBiosDefaults"/> reproduces).
/// </para>
/// <para>
/// Time: <c>now</c> returns the current cycle on the machine's time line and must advance while
/// a CPU runs (the accessing CPU's cycle count), so that a guest polling the counter sees it
/// move. Should it ever go backwards (CPUs at different points of the line), the PIT keeps the
/// latest time it has seen. Everything runs on the emulator thread.
/// </para>
/// </remarks>
public sealed class Pit8254 : BytePortDevice
{
    public const ushort DefaultBasePort = 0x40;
    public const int ChannelCount = 3;

    private readonly Func<long> _now;
    private readonly EventQueue _events;
    private readonly Channel[] _channels = new Channel[ChannelCount];
    private long _lastNow;

    /// <param name="now">The current cycle on the machine's time line.</param>
    /// <param name="events">The machine's event queue, for channel 0's output edges.</param>
    /// <param name="clock">The cycle to PIT-tick conversion.</param>
    /// <param name="irq0">The line channel 0's OUT drives (ISA IRQ0).</param>
    /// <param name="basePort">The first of the four ports.</param>
    public Pit8254(Func<long> now, EventQueue events, PitClock clock, IInterruptLine irq0, ushort basePort = DefaultBasePort)
        : base(basePort, 4)
    {
        ArgumentNullException.ThrowIfNull(now);
        ArgumentNullException.ThrowIfNull(events);
        ArgumentNullException.ThrowIfNull(clock);
        ArgumentNullException.ThrowIfNull(irq0);
        _now = now;
        _events = events;
        Clock = clock;
        for (int i = 0; i < ChannelCount; i++)
        {
            _channels[i] = new Channel(this, i, i == 0 ? irq0 : null);
        }

        Reset();
    }

    public PitClock Clock { get; }

    /// <summary>PIT clock ticks elapsed on the time line now.</summary>
    public long CurrentTick => Clock.TicksAt(Now());

    /// <summary>
    /// Puts every channel in the idle power-on state: mode 3, lobyte/hibyte access, binary, no
    /// count, OUT high, the gates of channels 0 and 1 high and that of channel 2 low. Pending
    /// output events are cancelled; no edge is signalled.
    /// </summary>
    public void Reset()
    {
        foreach (var c in _channels)
        {
            EventQueue.Cancel(c.Event);
            c.Event = null;
            c.PowerOn();
        }
    }

    /// <summary>
    /// Programs channel 0 as a PC BIOS (SeaBIOS under QEMU) leaves it: mode 2, count 65536,
    /// binary, i.e. IRQ0 at 18.2 Hz. Same as the guest writing 0x34, 0x00, 0x00 to ports 0x43,
    /// 0x40, 0x40 now.
    /// </summary>
    public void ProgramBiosDefaults()
    {
        WriteByte(3, 0x34);
        WriteByte(0, 0x00);
        WriteByte(0, 0x00);
    }

    /// <summary>The gate input of channel <paramref name="channel"/>.</summary>
    public bool GetGate(int channel) => Get(channel).Gate;

    /// <summary>Drives the gate input of a channel (only channel 2's is wired, to port 0x61 bit 0).</summary>
    public void SetGate(int channel, bool level)
    {
        var c = Get(channel);
        long t = Begin();
        bool before = c.Out(t);
        c.SetGate(t, level);
        Changed(c, t, before);
    }

    /// <summary>The OUT level of a channel now.</summary>
    public bool GetOutput(int channel)
    {
        var c = Get(channel);
        long t = Begin();
        return c.Out(t);
    }

    /// <summary>The counting element of a channel now, as a read would return it (BCD-encoded in BCD mode), without touching the latches or flip-flops.</summary>
    public ushort GetCount(int channel)
    {
        var c = Get(channel);
        long t = Begin();
        return c.Ce(t);
    }

    /// <summary>The mode (0-5) of a channel.</summary>
    public int GetMode(int channel) => Get(channel).Mode;

    protected override byte ReadByte(int offset)
    {
        if (offset == 3)
        {
            return 0;
        }

        var c = _channels[offset];
        long t = Begin();
        return c.ReadData(t);
    }

    protected override void WriteByte(int offset, byte value)
    {
        long t = Begin();
        if (offset < 3)
        {
            var c = _channels[offset];
            bool before = c.Out(t);
            c.WriteData(t, value);
            Changed(c, t, before);
            return;
        }

        int select = value >> 6;
        if (select == 3)
        {
            // Read-back: bit 5 = 0 latches the counts, bit 4 = 0 the status, bits 1-3 select channels.
            for (int i = 0; i < ChannelCount; i++)
            {
                if ((value & (2 << i)) == 0)
                {
                    continue;
                }

                var c = _channels[i];
                if ((value & 0x20) == 0)
                {
                    c.LatchCount(t);
                }

                if ((value & 0x10) == 0)
                {
                    c.LatchStatus(t);
                }
            }

            return;
        }

        var ch = _channels[select];
        int access = (value >> 4) & 3;
        if (access == 0)
        {
            ch.LatchCount(t);
            return;
        }

        bool outBefore = ch.Out(t);
        ch.WriteControl(t, access, (value >> 1) & 7, (value & 1) != 0);
        Changed(ch, t, outBefore);
    }

    private Channel Get(int channel)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(channel);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(channel, ChannelCount);
        return _channels[channel];
    }

    private long Now()
    {
        long n = _now();
        if (n < _lastNow)
        {
            n = _lastNow;
        }

        _lastNow = n;
        return n;
    }

    /// <summary>Brings the device up to the present: runs the output events already due, then syncs every channel; returns the current PIT tick.</summary>
    private long Begin()
    {
        long now = Now();
        foreach (var c in _channels)
        {
            while (c.Event is { } e && e.Time <= now)
            {
                EventQueue.Cancel(e);
                OnEvent(c, e.Time);
            }
        }

        long t = Clock.TicksAt(now);
        foreach (var c in _channels)
        {
            c.Sync(t);
        }

        return t;
    }

    /// <summary>After guest programming: signals a rising edge of OUT and reschedules the next one.</summary>
    private void Changed(Channel c, long t, bool outBefore)
    {
        if (c.Line is null)
        {
            return;
        }

        if (!outBefore && c.Out(t))
        {
            Pulse(c.Line);
        }

        Reschedule(c, t);
    }

    private void OnEvent(Channel c, long due)
    {
        c.Event = null;
        if (due > _lastNow)
        {
            _lastNow = due;
        }

        long t = Clock.TicksAt(due);
        c.Sync(t);
        Pulse(c.Line!);
        Reschedule(c, t);
    }

    private void Reschedule(Channel c, long t)
    {
        EventQueue.Cancel(c.Event);
        c.Event = null;
        long next = c.NextRisingTick(t);
        if (next >= 0)
        {
            c.Event = _events.Schedule(Clock.CycleOfTick(next), EventQueue.Priorities.Timer, c.Callback);
        }
    }

    private static void Pulse(IInterruptLine line)
    {
        line.SetLevel(true);
        line.SetLevel(false);
    }

    private static int FromBcd(int raw) =>
        (raw & 0xF) + ((raw >> 4) & 0xF) * 10 + ((raw >> 8) & 0xF) * 100 + ((raw >> 12) & 0xF) * 1000;

    private static int ToBcd(int value) =>
        (value % 10) | ((value / 10 % 10) << 4) | ((value / 100 % 10) << 8) | ((value / 1000 % 10) << 12);

    /// <summary>One counter. Times are PIT clock ticks; "elapsed" e counts the ticks since the count was loaded (e = 0 at the load, negative before it).</summary>
    private sealed class Channel
    {
        public Channel(Pit8254 owner, int index, IInterruptLine? line)
        {
            Index = index;
            Line = line;
            Callback = due => owner.OnEvent(this, due);
        }

        public int Index { get; }

        public IInterruptLine? Line { get; }

        public Action<long> Callback { get; }

        public EventQueue.Event? Event;

        public int Mode;
        public int Access;
        public bool Bcd;
        public bool Gate;

        private bool _writeMsbNext;
        private byte _writeLsb;
        private bool _readMsbNext;
        private bool _countLatched;
        private ushort _latchedCount;
        private bool _latchedMsbNext;
        private bool _statusLatched;
        private byte _latchedStatus;

        // The count register (as written) and whether one was written since the control word.
        private int _countRegister;
        private bool _haveCount;

        // The null count flag is set until this tick (long.MaxValue: until a load is scheduled).
        private long _nullCountUntil;

        // The counting run: armed once the count is (to be) loaded. Elapsed(t) is
        // _elapsedBase + (t - _resumeTick) while counting, _elapsedBase while the gate holds it.
        private bool _armed;
        private bool _counting;
        private long _elapsedBase;
        private long _resumeTick;
        private int _n;

        // Modes 2 and 3: a count written while counting, loaded when e reaches _pendingAtE.
        private bool _pendingReload;
        private int _pendingN;
        private long _pendingAtE;

        // The counting element and OUT while not armed.
        private ushort _heldCe;
        private bool _outDisarmed;

        private int Modulus => Bcd ? 10000 : 65536;

        public void PowerOn()
        {
            Mode = 3;
            Access = 3;
            Bcd = false;
            Gate = Index != 2;
            _writeMsbNext = false;
            _readMsbNext = false;
            _countLatched = false;
            _statusLatched = false;
            _countRegister = 0;
            _haveCount = false;
            _nullCountUntil = long.MaxValue;
            _armed = false;
            _pendingReload = false;
            _heldCe = 0;
            _outDisarmed = true;
        }

        private long Elapsed(long t) => _elapsedBase + (_counting ? t - _resumeTick : 0);

        private int Decode(int raw)
        {
            int v = Bcd ? FromBcd(raw) : raw;
            return v == 0 ? Modulus : v;
        }

        private ushort Encode(long value)
        {
            int v = (int)(value % Modulus);
            return (ushort)(Bcd ? ToBcd(v) : v);
        }

        private void Arm(long t, int n)
        {
            _armed = true;
            _n = n;
            _elapsedBase = 0;
            _resumeTick = t + 1;
            _counting = Mode is not (0 or 4) || Gate;
            _pendingReload = false;
            _nullCountUntil = Math.Min(_nullCountUntil, t + 1);
        }

        /// <summary>Applies a pending mode 2/3 reload whose period boundary has passed.</summary>
        public void Sync(long t)
        {
            if (_armed && _pendingReload && _counting && Elapsed(t) >= _pendingAtE)
            {
                long tick = _resumeTick + (_pendingAtE - _elapsedBase);
                _n = _pendingN;
                _elapsedBase = 0;
                _resumeTick = tick;
                _pendingReload = false;
                _nullCountUntil = Math.Min(_nullCountUntil, tick);
            }
        }

        public bool Out(long t)
        {
            if (!_armed)
            {
                return _outDisarmed;
            }

            long e = Elapsed(t);
            if (e < 0)
            {
                // Before the load: mode 0 holds OUT low, the other modes high.
                return Mode != 0;
            }

            return Mode switch
            {
                0 or 1 => e >= _n,
                2 => e % _n != _n - 1,
                3 => e % _n < (_n + 1) / 2,
                _ => e != _n,
            };
        }

        public ushort Ce(long t)
        {
            if (!_armed)
            {
                return _heldCe;
            }

            long e = Elapsed(t);
            if (e < 0)
            {
                return _heldCe;
            }

            long n = _n;
            long v;
            switch (Mode)
            {
                case 2:
                    v = n - (e % n);
                    break;
                case 3:
                    long p = e % n;
                    if ((n & 1) == 0)
                    {
                        long half = n / 2;
                        v = p < half ? n - 2 * p : n - 2 * (p - half);
                    }
                    else
                    {
                        long high = (n + 1) / 2;
                        if (p < high)
                        {
                            v = p == 0 ? n : n + 1 - 2 * p;
                        }
                        else
                        {
                            long q = p - high;
                            v = q == 0 ? n : n - 1 - 2 * q;
                        }
                    }

                    break;
                default:
                    v = ((n - e) % Modulus + Modulus) % Modulus;
                    break;
            }

            return Encode(v);
        }

        /// <summary>The tick of the next rising edge of OUT after tick <paramref name="t"/>, or -1 if none comes without reprogramming.</summary>
        public long NextRisingTick(long t)
        {
            if (!_armed || !_counting)
            {
                return -1;
            }

            long e = Elapsed(t);
            long target;
            switch (Mode)
            {
                case 0:
                case 1:
                    if (e >= _n)
                    {
                        return -1;
                    }

                    target = _n;
                    break;
                case 2:
                case 3:
                    if (_n == 1)
                    {
                        return -1;
                    }

                    target = e < 0 ? _n : (e / _n + 1) * _n;
                    break;
                default:
                    if (e > _n)
                    {
                        return -1;
                    }

                    target = _n + 1L;
                    break;
            }

            return t + (target - e);
        }

        private byte Status(long t) =>
            (byte)((Out(t) ? 0x80 : 0) | (t < _nullCountUntil ? 0x40 : 0) | (Access << 4) | (Mode << 1) | (Bcd ? 1 : 0));

        public void LatchCount(long t)
        {
            if (!_countLatched)
            {
                _countLatched = true;
                _latchedCount = Ce(t);
                _latchedMsbNext = false;
            }
        }

        public void LatchStatus(long t)
        {
            if (!_statusLatched)
            {
                _statusLatched = true;
                _latchedStatus = Status(t);
            }
        }

        public byte ReadData(long t)
        {
            if (_statusLatched)
            {
                _statusLatched = false;
                return _latchedStatus;
            }

            if (_countLatched)
            {
                bool msb = Access == 2 || (Access == 3 && _latchedMsbNext);
                if (Access == 3 && !_latchedMsbNext)
                {
                    _latchedMsbNext = true;
                }
                else
                {
                    _countLatched = false;
                }

                return (byte)(msb ? _latchedCount >> 8 : _latchedCount);
            }

            ushort ce = Ce(t);
            bool high = Access == 2 || (Access == 3 && _readMsbNext);
            if (Access == 3)
            {
                _readMsbNext = !_readMsbNext;
            }

            return (byte)(high ? ce >> 8 : ce);
        }

        public void WriteControl(long t, int access, int mode, bool bcd)
        {
            _heldCe = Ce(t);
            Access = access;
            Mode = mode > 5 ? mode - 4 : mode;
            Bcd = bcd;
            _writeMsbNext = false;
            _readMsbNext = false;
            _countLatched = false;
            _statusLatched = false;
            _haveCount = false;
            _nullCountUntil = long.MaxValue;
            _armed = false;
            _pendingReload = false;

            // A control word sets OUT low in mode 0 and high in the other modes.
            _outDisarmed = Mode != 0;
        }

        public void WriteData(long t, byte value)
        {
            switch (Access)
            {
                case 1:
                    Load(t, value);
                    break;
                case 2:
                    Load(t, value << 8);
                    break;
                default:
                    if (!_writeMsbNext)
                    {
                        _writeMsbNext = true;
                        _writeLsb = value;
                        if (Mode == 0)
                        {
                            // Mode 0: writing the first byte stops the count and sets OUT low.
                            _heldCe = Ce(t);
                            _armed = false;
                            _outDisarmed = false;
                        }
                    }
                    else
                    {
                        _writeMsbNext = false;
                        Load(t, _writeLsb | (value << 8));
                    }

                    break;
            }
        }

        private void Load(long t, int raw)
        {
            _countRegister = raw;
            _haveCount = true;
            _nullCountUntil = long.MaxValue;
            int n = Decode(raw);
            switch (Mode)
            {
                case 0:
                case 4:
                    Arm(t, n);
                    break;
                case 2:
                case 3:
                    if (!Gate)
                    {
                        // Loaded into the counting element, which does not count until the gate rises.
                        _heldCe = (ushort)raw;
                        _nullCountUntil = t;
                    }
                    else if (_armed && Elapsed(t) >= 0)
                    {
                        long e = Elapsed(t);
                        _pendingReload = true;
                        _pendingN = n;
                        _pendingAtE = (e / _n + 1) * _n;
                    }
                    else
                    {
                        Arm(t, n);
                    }

                    break;
                default:
                    // Modes 1 and 5 wait for a gate trigger.
                    break;
            }
        }

        public void SetGate(long t, bool level)
        {
            if (Gate == level)
            {
                return;
            }

            switch (Mode)
            {
                case 0:
                case 4:
                    if (_armed)
                    {
                        if (level)
                        {
                            _resumeTick = t;
                            _counting = true;
                        }
                        else
                        {
                            _elapsedBase = Elapsed(t);
                            _counting = false;
                        }
                    }

                    Gate = level;
                    break;
                case 1:
                case 5:
                    Gate = level;
                    if (level && _haveCount)
                    {
                        Arm(t, Decode(_countRegister));
                    }

                    break;
                default:
                    Gate = level;
                    if (level)
                    {
                        if (_haveCount)
                        {
                            Arm(t, Decode(_countRegister));
                        }
                    }
                    else
                    {
                        if (_armed)
                        {
                            _heldCe = Ce(t);
                            _armed = false;
                            _pendingReload = false;
                        }

                        _outDisarmed = true;
                    }

                    break;
            }
        }
    }
}
