namespace Emulator.Devices;

/// <summary>
/// Converts between the machine's cycle time line and the 8254 PIT's input clock.
/// </summary>
/// <remarks>
/// <para>
/// The time line counts cycles of a nominal CPU clock of <see cref="CyclesPerSecond"/> Hz
/// (<see cref="DefaultCyclesPerSecond"/>, 1 GHz, unless the machine says otherwise). The PIT's
/// input clock runs at <see cref="InputHz"/> = 1 193 182 Hz (the PC's 14.31818 MHz crystal divided
/// by 12, rounded as QEMU rounds it). PIT clock tick n (n = 1, 2, ...) falls on the first cycle
/// c with c * InputHz >= n * CyclesPerSecond, so the mapping is exact integer arithmetic: no
/// drift, however long the run.
/// </para>
/// </remarks>
public sealed class PitClock
{
    /// <summary>The PIT input frequency in Hz.</summary>
    public const long InputHz = 1_193_182;

    /// <summary>The default nominal CPU clock: 1 GHz, i.e. one cycle is one nanosecond.</summary>
    public const long DefaultCyclesPerSecond = 1_000_000_000;

    public PitClock(long cyclesPerSecond = DefaultCyclesPerSecond)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(cyclesPerSecond, InputHz);
        CyclesPerSecond = cyclesPerSecond;
    }

    /// <summary>The nominal CPU clock the time line counts, in Hz.</summary>
    public long CyclesPerSecond { get; }

    /// <summary>How many PIT clock ticks have occurred at or before <paramref name="cycle"/> (0 at cycle 0).</summary>
    public long TicksAt(long cycle) =>
        cycle <= 0 ? 0 : (long)((Int128)cycle * InputHz / CyclesPerSecond);

    /// <summary>The cycle at which PIT clock tick <paramref name="tick"/> occurs: the first cycle c with <c>TicksAt(c) &gt;= tick</c>.</summary>
    public long CycleOfTick(long tick) =>
        tick <= 0 ? 0 : (long)(((Int128)tick * CyclesPerSecond + InputHz - 1) / InputHz);
}
