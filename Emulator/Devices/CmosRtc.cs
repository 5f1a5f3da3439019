namespace Emulator.Devices;

/// <summary>
/// The PC's CMOS RAM and real-time clock (a Motorola MC146818A) at ports 0x70 (index) and 0x71
/// (data): 128 bytes, of which 0x00-0x0D are the clock's registers.
/// </summary>
/// <remarks>
/// <para>
/// Port 0x70 is write only: bits 0-6 select the register, bit 7 is the PC's NMI mask (stored and
/// exposed as <see cref="NmiDisabled"/>; nothing else consults it yet). Reading port 0x70 returns
/// 0xFF, as in QEMU. Port 0x71 reads and writes the selected register.
/// </para>
/// <para>
/// The clock keeps time on the machine's time line, never the host's: it starts at the time given
/// to the constructor (2000-01-01 00:00:00 by default) at cycle 0 and advances one second every
/// <c>cyclesPerSecond</c> cycles, so a run is reproducible. The time registers (seconds 0x00,
/// minutes 0x02, hours 0x04, day of week 0x06 with Sunday = 1, day of month 0x07, month 0x08,
/// year 0x09, century 0x32) read in BCD or binary and in 24- or 12-hour form (bit 7 = PM) as
/// register B's DM and 24/12 bits say, whatever the format they were written in (the chip itself
/// does not convert on a format change; software rewrites the time after changing it). Writes set
/// the clock; while register B's SET bit is 1 the clock stands still, and clearing SET restarts
/// the current second. The century byte (0x32, the IBM convention) follows the year, as in QEMU.
/// Values the guest writes that are no valid date are clamped to one when the clock next
/// advances. The alarm registers (0x01, 0x03, 0x05) are stored only.
/// </para>
/// <para>
/// Register A: bits 0-6 (divider and rate select) are stored without effect (the clock always
/// runs, no periodic interrupt); bit 7, update in progress, reads 1 during the last 244 µs of each
/// second (while SET is clear), as QEMU reports it, and the time registers change when it drops.
/// Register B is stored (setting SET clears UIE as on the chip). There is no interrupt output: no
/// periodic, alarm or update-ended interrupt, and register C reads 0. Register D reads 0x80
/// (valid RAM and time). Writes to C and D are ignored.
/// </para>
/// <para>
/// The rest is plain RAM, filled at construction as a PC BIOS (SeaBIOS/QEMU) fills it: base
/// memory 640 KiB at 0x15-0x16, memory above 1 MiB in KiB (at most 65535) at 0x17-0x18 and
/// 0x30-0x31, memory above 16 MiB in 64 KiB units (at most 65535) at 0x34-0x35, the number of
/// CPUs minus one at 0x5F (QEMU's convention), and the standard checksum of 0x10-0x2D at
/// 0x2E-0x2F (high byte first). The shutdown status byte 0x0F is plain storage (see
/// <see cref="ShutdownStatus"/>).
/// </para>
/// </remarks>
public sealed class CmosRtc : BytePortDevice
{
    public const ushort DefaultBasePort = 0x70;
    public const int Size = 128;

    public const int RegSeconds = 0x00;
    public const int RegMinutes = 0x02;
    public const int RegHours = 0x04;
    public const int RegDayOfWeek = 0x06;
    public const int RegDayOfMonth = 0x07;
    public const int RegMonth = 0x08;
    public const int RegYear = 0x09;
    public const int RegA = 0x0A;
    public const int RegB = 0x0B;
    public const int RegC = 0x0C;
    public const int RegD = 0x0D;
    public const int RegShutdownStatus = 0x0F;
    public const int RegCentury = 0x32;

    /// <summary>Register B bits.</summary>
    public const byte RegBSet = 0x80;
    public const byte RegBUpdateEndedInterrupt = 0x10;
    public const byte RegBBinary = 0x04;
    public const byte RegB24Hour = 0x02;

    /// <summary>The update-in-progress window at the end of each second, in microseconds.</summary>
    public const int UpdateInProgressMicroseconds = 244;

    /// <summary>The default start time: 2000-01-01 00:00:00.</summary>
    public static readonly DateTime DefaultStartTime = new(2000, 1, 1, 0, 0, 0, DateTimeKind.Unspecified);

    private readonly Func<long> _now;
    private readonly long _cyclesPerSecond;
    private readonly long _uipCycles;
    private readonly byte[] _ram = new byte[Size];
    private byte _index;

    // The clock, in binary: a 24-hour time and a four-digit year. _refCycle is the cycle at
    // which the current second began.
    private int _second;
    private int _minute;
    private int _hour;
    private int _dayOfWeek;
    private int _day;
    private int _month;
    private int _year;
    private long _refCycle;

    /// <param name="now">The current cycle on the machine's time line.</param>
    /// <param name="ramBytes">Guest RAM size, for the memory size bytes.</param>
    /// <param name="cyclesPerSecond">The nominal CPU clock the time line counts (1 GHz by default).</param>
    /// <param name="startTime">The clock's time at cycle 0 (default 2000-01-01 00:00:00).</param>
    /// <param name="cpuCount">The number of CPUs, for byte 0x5F.</param>
    public CmosRtc(Func<long> now, uint ramBytes, long cyclesPerSecond = PitClock.DefaultCyclesPerSecond, DateTime? startTime = null, int cpuCount = 1)
        : base(DefaultBasePort, 2)
    {
        ArgumentNullException.ThrowIfNull(now);
        ArgumentOutOfRangeException.ThrowIfLessThan(cyclesPerSecond, 1_000_000);
        ArgumentOutOfRangeException.ThrowIfLessThan(cpuCount, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(cpuCount, 256);
        _now = now;
        _cyclesPerSecond = cyclesPerSecond;
        _uipCycles = cyclesPerSecond * UpdateInProgressMicroseconds / 1_000_000;

        SetClock(startTime ?? DefaultStartTime);
        _refCycle = 0;

        _ram[RegA] = 0x26; // 32.768 kHz time base, 1024 Hz rate
        _ram[RegB] = RegB24Hour; // 24-hour, BCD, no interrupts
        FillMemorySizes(ramBytes, cpuCount);
    }

    /// <summary>Whether the guest last wrote port 0x70 with bit 7 set (NMI masked).</summary>
    public bool NmiDisabled { get; private set; }

    /// <summary>The register port 0x71 accesses.</summary>
    public int SelectedIndex => _index;

    /// <summary>The shutdown status byte (0x0F), which tells a BIOS what to do after a reset (0x0A: jump through the warm-reset vector at 0x467).</summary>
    public byte ShutdownStatus
    {
        get => _ram[RegShutdownStatus];
        set => _ram[RegShutdownStatus] = value;
    }

    /// <summary>The clock's time now.</summary>
    public DateTime CurrentTime
    {
        get
        {
            Advance(Now());
            return ClampedTime();
        }
    }

    /// <summary>Reads a register as the guest would through port 0x71.</summary>
    public byte ReadRegister(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Size);
        long now = Now();
        Advance(now);
        return index switch
        {
            RegSeconds => Encode(_second),
            RegMinutes => Encode(_minute),
            RegHours => EncodeHour(),
            RegDayOfWeek => Encode(_dayOfWeek),
            RegDayOfMonth => Encode(_day),
            RegMonth => Encode(_month),
            RegYear => Encode(_year % 100),
            RegCentury => Encode(_year / 100),
            RegA => (byte)((_ram[RegA] & 0x7F) | (UpdateInProgress(now) ? 0x80 : 0)),
            RegC => 0,
            RegD => 0x80,
            _ => _ram[index],
        };
    }

    /// <summary>Writes a register as the guest would through port 0x71.</summary>
    public void WriteRegister(int index, byte value)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Size);
        long now = Now();
        Advance(now);
        switch (index)
        {
            case RegSeconds:
                _second = Decode(value);
                break;
            case RegMinutes:
                _minute = Decode(value);
                break;
            case RegHours:
                _hour = DecodeHour(value);
                break;
            case RegDayOfWeek:
                _dayOfWeek = Decode(value);
                break;
            case RegDayOfMonth:
                _day = Decode(value);
                break;
            case RegMonth:
                _month = Decode(value);
                break;
            case RegYear:
                _year = (_year / 100 * 100) + Decode(value);
                break;
            case RegCentury:
                _year = (Decode(value) * 100) + (_year % 100);
                break;
            case RegA:
                _ram[RegA] = (byte)(value & 0x7F);
                break;
            case RegB:
                if ((value & RegBSet) != 0)
                {
                    value = (byte)(value & ~RegBUpdateEndedInterrupt);
                }

                if (((value ^ _ram[RegB]) & RegBSet) != 0)
                {
                    // Setting or clearing SET (re)starts the current second here.
                    _refCycle = now;
                }

                _ram[RegB] = value;
                break;
            case RegC:
            case RegD:
                break;
            default:
                _ram[index] = value;
                break;
        }
    }

    protected override byte ReadByte(int offset) => offset == 0 ? (byte)0xFF : ReadRegister(_index);

    protected override void WriteByte(int offset, byte value)
    {
        if (offset == 0)
        {
            _index = (byte)(value & 0x7F);
            NmiDisabled = (value & 0x80) != 0;
        }
        else
        {
            WriteRegister(_index, value);
        }
    }

    private bool Binary => (_ram[RegB] & RegBBinary) != 0;

    private bool Hour24 => (_ram[RegB] & RegB24Hour) != 0;

    private bool Set => (_ram[RegB] & RegBSet) != 0;

    private long Now() => _now();

    private void FillMemorySizes(uint ramBytes, int cpuCount)
    {
        const int baseKib = 640;
        _ram[0x15] = baseKib & 0xFF;
        _ram[0x16] = baseKib >> 8;

        long extendedKib = Math.Clamp(((long)ramBytes / 1024) - 1024, 0, 65535);
        _ram[0x17] = _ram[0x30] = (byte)extendedKib;
        _ram[0x18] = _ram[0x31] = (byte)(extendedKib >> 8);

        long above16M = ramBytes > (16u << 20) ? Math.Min((ramBytes - (16u << 20)) / 65536, 65535) : 0;
        _ram[0x34] = (byte)above16M;
        _ram[0x35] = (byte)(above16M >> 8);

        _ram[0x5F] = (byte)(cpuCount - 1);

        int sum = 0;
        for (int i = 0x10; i <= 0x2D; i++)
        {
            sum += _ram[i];
        }

        _ram[0x2E] = (byte)(sum >> 8);
        _ram[0x2F] = (byte)sum;
    }

    private void SetClock(DateTime t)
    {
        _second = t.Second;
        _minute = t.Minute;
        _hour = t.Hour;
        _dayOfWeek = (int)t.DayOfWeek + 1;
        _day = t.Day;
        _month = t.Month;
        _year = t.Year;
    }

    /// <summary>Moves the clock forward by the whole seconds elapsed since the current second began.</summary>
    private void Advance(long now)
    {
        if (Set)
        {
            // Stopped: the current second begins again when SET is cleared.
            _refCycle = now;
            return;
        }

        long elapsed = now - _refCycle;
        if (elapsed < _cyclesPerSecond)
        {
            return;
        }

        long seconds = elapsed / _cyclesPerSecond;
        _refCycle += seconds * _cyclesPerSecond;

        DateTime from = ClampedTime();
        double maxSeconds = (DateTime.MaxValue - from).TotalSeconds - 1;
        DateTime to = from.AddSeconds(Math.Min(seconds, maxSeconds));
        int days = (int)((to.Date - from.Date).Ticks / TimeSpan.TicksPerDay);
        int dow = (((Math.Clamp(_dayOfWeek, 1, 7) - 1 + days) % 7) + 7) % 7;
        SetClock(to);
        _dayOfWeek = dow + 1;
    }

    private bool UpdateInProgress(long now) => !Set && now - _refCycle >= _cyclesPerSecond - _uipCycles;

    private DateTime ClampedTime()
    {
        int year = Math.Clamp(_year, 1, 9999);
        int month = Math.Clamp(_month, 1, 12);
        int day = Math.Clamp(_day, 1, DateTime.DaysInMonth(year, month));
        return new DateTime(year, month, day, Math.Clamp(_hour, 0, 23), Math.Clamp(_minute, 0, 59), Math.Clamp(_second, 0, 59), DateTimeKind.Unspecified);
    }

    private byte Encode(int value) => Binary ? (byte)value : (byte)(((value / 10 % 10) << 4) | (value % 10));

    private int Decode(byte value) => Binary ? value : ((value >> 4) * 10) + (value & 0xF);

    private byte EncodeHour()
    {
        if (Hour24)
        {
            return Encode(_hour);
        }

        int h12 = _hour % 12 == 0 ? 12 : _hour % 12;
        return (byte)(Encode(h12) | (_hour >= 12 ? 0x80 : 0));
    }

    private int DecodeHour(byte value)
    {
        if (Hour24)
        {
            return Decode(value);
        }

        int h12 = Decode((byte)(value & 0x7F));
        return (h12 % 12) + ((value & 0x80) != 0 ? 12 : 0);
    }
}
