using System.Numerics;
using Emulator.Devices;
using Emulator.Memory;
using Emulator.Platform;

namespace Emulator.Tests.Devices;

public class PitClockTests
{
    [Theory]
    [InlineData(1_000_000_000L)]
    [InlineData(2_400_000_000L)]
    [InlineData(3_333_333_333L)]
    [InlineData(1_193_182L)]
    public void TickCycleMappingIsExactAndConsistent(long hz)
    {
        var clock = new PitClock(hz);
        foreach (long tick in new long[] { 1, 2, 17, 1193, 65536, 1_193_182, 10_000_000_007 })
        {
            long c = clock.CycleOfTick(tick);
            Assert.Equal(tick, clock.TicksAt(c));
            Assert.Equal(tick - 1, clock.TicksAt(c - 1));

            // Independent check: the first cycle c with c * 1193182 >= tick * hz.
            var expected = ((BigInteger)tick * hz + PitClock.InputHz - 1) / PitClock.InputHz;
            Assert.Equal(expected, (BigInteger)c);
        }
    }

    [Fact]
    public void OneSecondOfTheDefaultClockIsOneSecondOfPitTicks()
    {
        var clock = new PitClock();
        Assert.Equal(1_000_000_000L, clock.CyclesPerSecond);
        Assert.Equal(PitClock.InputHz, clock.TicksAt(1_000_000_000L));
        Assert.Equal(0, clock.TicksAt(0));
        Assert.Equal(0, clock.TicksAt(838));
        Assert.Equal(1, clock.TicksAt(839));
    }
}

public class Pit8254Tests
{
    private const ushort Ch0 = 0x40;
    private const ushort Ch1 = 0x41;
    private const ushort Ch2 = 0x42;
    private const ushort Cmd = 0x43;
    private const ushort PortB = 0x61;

    private readonly EventQueue _events = new();
    private readonly TimedLine _irq0;
    private readonly PitClock _clock = new();
    private readonly Pit8254 _pit;
    private readonly SystemControlPortB _portB;
    private readonly IoPortBus _bus = new();
    private long _now;

    public Pit8254Tests()
    {
        _irq0 = new TimedLine(() => _now);
        _pit = new Pit8254(() => _now, _events, _clock, _irq0);
        _pit.RegisterOn(_bus);
        _portB = new SystemControlPortB(_pit);
        _portB.RegisterOn(_bus);
    }

    /// <summary>An interrupt line that records when it rose, and checks that it pulses.</summary>
    private sealed class TimedLine(Func<long> now) : IInterruptLine
    {
        public List<long> Rises { get; } = [];

        public bool Level { get; private set; }

        public void SetLevel(bool asserted)
        {
            Assert.NotEqual(Level, asserted);
            Level = asserted;
            if (asserted)
            {
                Rises.Add(now());
            }
        }
    }

    private byte In(ushort port) => (byte)_bus.In(port, 1);

    private void Out(ushort port, byte value) => _bus.Out(port, 1, value);

    /// <summary>Advances the time line to <paramref name="cycle"/>, running each event at its own time, as the machine does.</summary>
    private void RunTo(long cycle)
    {
        while (_events.NextTime <= cycle)
        {
            _now = _events.NextTime;
            _events.RunDue(_now);
        }

        _now = cycle;
    }

    /// <summary>Moves to the cycle of PIT tick <paramref name="tick"/>.</summary>
    private void RunToTick(long tick) => RunTo(_clock.CycleOfTick(tick));

    private void Program(int channel, int mode, int count, int access = 3)
    {
        Out(Cmd, (byte)((channel << 6) | (access << 4) | (mode << 1)));
        ushort port = (ushort)(Ch0 + channel);
        if (access != 2)
        {
            Out(port, (byte)count);
        }

        if (access != 1)
        {
            Out(port, (byte)(count >> 8));
        }
    }

    private ushort LatchAndRead(int channel)
    {
        Out(Cmd, (byte)(channel << 6));
        ushort port = (ushort)(Ch0 + channel);
        int lo = In(port);
        int hi = In(port);
        return (ushort)(lo | (hi << 8));
    }

    private static long ExpectedCycle(long tick) =>
        (long)(((BigInteger)tick * 1_000_000_000 + PitClock.InputHz - 1) / PitClock.InputHz);

    [Fact]
    public void Mode2FiresIrq0OncePerPeriodAtTheExactCycle()
    {
        Program(0, 2, 1193);
        RunTo(1_000_000_000);

        // Written at tick 0, loaded at tick 1: rising edges at ticks 1 + 1193k, up to tick 1193182.
        Assert.Equal(1000, _irq0.Rises.Count);
        for (int k = 1; k <= 1000; k++)
        {
            Assert.Equal(ExpectedCycle(1 + (1193L * k)), _irq0.Rises[k - 1]);
        }

        Assert.False(_irq0.Level);
        Assert.Equal(1, _events.Count);
    }

    [Fact]
    public void PeriodFollowsTheConfiguredCpuFrequency()
    {
        var events = new EventQueue();
        long now = 0;
        var line = new TimedLine(() => now);
        var clock = new PitClock(2_500_000_000);
        var pit = new Pit8254(() => now, events, clock, line);
        pit.Out(0x43, 1, 0x34);
        pit.Out(0x40, 1, 11932 & 0xFF);
        pit.Out(0x40, 1, 11932 >> 8);

        // Ten seconds of a 2.5 GHz machine, run as a machine would: each event at its own time.
        while (events.NextTime <= 25_000_000_000)
        {
            now = events.NextTime;
            events.RunDue(now);
        }

        // 11 931 820 ticks: edges at 1 + 11932k, k = 1..999.
        Assert.Equal(999, line.Rises.Count);
        Assert.Equal(clock.CycleOfTick(1 + (11932L * 999)), line.Rises[^1]);
        Assert.InRange(line.Rises[1] - line.Rises[0], 25_000_377, 25_000_378); // 11932 / 1193182 s at 2.5 GHz
    }

    [Fact]
    public void Mode3WithCountZeroRunsAt18Point2Hz()
    {
        Program(0, 3, 0);
        RunTo(10_000_000_000);

        // 65536-tick periods: floor((11931820 - 1) / 65536) = 182 edges in ten seconds.
        Assert.Equal(182, _irq0.Rises.Count);
        Assert.Equal(ExpectedCycle(1 + 65536), _irq0.Rises[0]);
    }

    [Fact]
    public void BiosDefaultsAreMode2At18Point2Hz()
    {
        _pit.ProgramBiosDefaults();
        Assert.Equal(2, _pit.GetMode(0));
        RunTo(1_000_000_000);
        Assert.Equal(18, _irq0.Rises.Count);
    }

    [Fact]
    public void Mode0IsOneShotAfterCountPlusOneTicks()
    {
        RunToTick(1000);
        Program(0, 0, 100);
        Assert.False(_pit.GetOutput(0));

        RunToTick(1100);
        Assert.False(_pit.GetOutput(0));
        Assert.Empty(_irq0.Rises);

        RunToTick(1101);
        Assert.True(_pit.GetOutput(0));
        Assert.Equal([ExpectedCycle(1101)], _irq0.Rises);

        // The counter keeps counting down (wrapping) but OUT stays high: no further interrupt.
        RunTo(_now + 1_000_000_000);
        Assert.Single(_irq0.Rises);
        Assert.True(_pit.GetOutput(0));
        Assert.Equal(0, _events.Count);

        // A new count re-arms it: OUT drops, then rises again N + 1 ticks later.
        long t = _clock.TicksAt(_now);
        Out(Ch0, 10);
        Assert.False(_pit.GetOutput(0)); // first byte only: mode 0 stops counting, OUT low
        Out(Ch0, 0);
        Assert.False(_pit.GetOutput(0));
        RunToTick(t + 11);
        Assert.Equal(2, _irq0.Rises.Count);
        Assert.Equal(ExpectedCycle(t + 11), _irq0.Rises[1]);
    }

    [Fact]
    public void Mode0FirstByteStopsTheCountAndSetsOutLow()
    {
        Program(0, 0, 1000);
        RunToTick(300);
        Out(Ch0, 0x34);
        Assert.False(_pit.GetOutput(0));
        ushort held = _pit.GetCount(0);
        RunToTick(5000);
        Assert.Empty(_irq0.Rises);
        Assert.Equal(held, _pit.GetCount(0));
        Assert.Equal(1000 - 299, held);
    }

    [Fact]
    public void CountReadsFollowTheTimeLine()
    {
        Program(0, 2, 1000);
        RunToTick(1 + 250);
        Assert.Equal(750, LatchAndRead(0));
        RunToTick(1 + 1000 + 999);
        Assert.Equal(1, LatchAndRead(0));
        RunToTick(1 + 2000);
        Assert.Equal(1000, LatchAndRead(0));

        // Unlatched lobyte/hibyte reads see the counter as it is at each read.
        RunToTick(1 + 2000 + 0x100);
        Assert.Equal(1000 - 0x100 & 0xFF, In(Ch0));
        RunToTick(1 + 2000 + 0x200);
        Assert.Equal(1000 - 0x200 >> 8, In(Ch0));
    }

    [Fact]
    public void LatchedCountIsHeldUntilReadAndLatchingTwiceKeepsTheFirst()
    {
        Program(0, 2, 50000);
        RunToTick(1 + 100);
        Out(Cmd, 0x00);
        RunToTick(1 + 5000);
        Out(Cmd, 0x00); // ignored: a count is already latched
        Assert.Equal(49900 & 0xFF, In(Ch0));
        RunToTick(1 + 6000);
        Assert.Equal(49900 >> 8, In(Ch0));

        // Released: the next latch takes the current value.
        Assert.Equal(44000, LatchAndRead(0));
    }

    [Fact]
    public void LobyteAndHibyteOnlyAccess()
    {
        Program(1, 2, 0x80, access: 1);
        RunToTick(1 + 0x10);
        Out(Cmd, 0x40);
        Assert.Equal(0x70, In(Ch1));
        Assert.Equal(0x70, In(Ch1)); // latch released: unlatched lobyte read, still tick 0x11

        Program(1, 2, 0x1200, access: 2);
        long t = _clock.TicksAt(_now);
        RunToTick(t + 1 + 0x100);
        Assert.Equal(0x11, In(Ch1));
    }

    [Fact]
    public void ReadBackReturnsStatusThenCount()
    {
        Out(Cmd, 0x34);
        Out(Ch0, 0xE8);
        Out(Ch0, 0x03); // 1000

        // Before the load tick: null count set, OUT high (mode 2), RW = 3, mode 2, binary.
        Out(Cmd, 0xE2);
        Assert.Equal(0xF4, In(Ch0));

        RunToTick(1 + 10);
        Out(Cmd, 0xC2); // latch count and status of channel 0
        Assert.Equal(0xB4, In(Ch0));
        Assert.Equal(990 & 0xFF, In(Ch0));
        Assert.Equal(990 >> 8, In(Ch0));

        // Count only, several channels at once.
        Out(PortB, 0x01);
        Program(2, 0, 0x4000);
        long t = _clock.TicksAt(_now);
        RunToTick(t + 1 + 0x100);
        Out(Cmd, 0xDA); // count only, channels 0 and 2
        Assert.Equal(0x00, In(Ch2));
        Assert.Equal(0x3F, In(Ch2));
        ushort ch0 = (ushort)(In(Ch0) | (In(Ch0) << 8));
        Assert.InRange(ch0, 1, 1000);

        // Status only of channel 2: mode 0, OUT low, count loaded.
        Out(Cmd, 0xE8);
        Assert.Equal(0x30, In(Ch2));
    }

    [Fact]
    public void Mode2NewCountTakesEffectAtTheEndOfThePeriod()
    {
        Program(0, 2, 1000);
        RunToTick(1 + 1500);
        Out(Ch0, 100);
        Out(Ch0, 0);
        RunToTick(1 + 2000 + 350);

        // Edges at 1001, 2001 (old count), then every 100 ticks.
        long[] expected = [1001, 2001, 2101, 2201, 2301];
        Assert.Equal(expected.Select(ExpectedCycle), _irq0.Rises);
        Assert.Equal(50, LatchAndRead(0));
    }

    [Fact]
    public void DueEventsRunBeforeAPortAccess()
    {
        Program(0, 2, 100);

        // The machine has not run the queue, but a port access three periods later sees them happen first.
        _now = _clock.CycleOfTick(1 + 300 + 7);
        Assert.Equal(93, LatchAndRead(0));
        Assert.Equal([_now, _now, _now], _irq0.Rises);
        Assert.Equal(ExpectedCycle(401), _events.NextTime);
    }

    [Fact]
    public void ReprogrammingFromMode0ToMode2RaisesOut()
    {
        Program(0, 0, 1000);
        Assert.Empty(_irq0.Rises);
        Out(Cmd, 0x34);
        Assert.Single(_irq0.Rises);
        Assert.True(_pit.GetOutput(0));
    }

    [Fact]
    public void Mode3OutputIsASquareWave()
    {
        Program(2, 3, 10);
        Out(PortB, 0x01);
        long t0 = _clock.TicksAt(_now) + 1;
        var outs = new List<bool>();
        var counts = new List<int>();
        for (int i = 0; i < 20; i++)
        {
            RunToTick(t0 + i);
            outs.Add((In(PortB) & 0x20) != 0);
            counts.Add(LatchAndRead(2));
        }

        bool[] expectedOut = [.. Enumerable.Range(0, 20).Select(i => i % 10 < 5)];
        Assert.Equal(expectedOut, outs);
        int[] expectedCounts = [10, 8, 6, 4, 2, 10, 8, 6, 4, 2, 10, 8, 6, 4, 2, 10, 8, 6, 4, 2];
        Assert.Equal(expectedCounts, counts);
    }

    [Fact]
    public void Mode3OddCountIsHighOneTickLonger()
    {
        Program(2, 3, 5);
        Out(PortB, 0x01);
        long t0 = _clock.TicksAt(_now) + 1;
        var outs = new List<bool>();
        var counts = new List<int>();
        for (int i = 0; i < 10; i++)
        {
            RunToTick(t0 + i);
            outs.Add(_pit.GetOutput(2));
            counts.Add(_pit.GetCount(2));
        }

        Assert.Equal([true, true, true, false, false, true, true, true, false, false], outs);
        Assert.Equal([5, 4, 2, 5, 2, 5, 4, 2, 5, 2], counts);
    }

    [Fact]
    public void Channel2GateAndOutThroughPort61AsLinuxCalibratesTheTsc()
    {
        // Gate low: a mode 0 count is loaded but does not count.
        Out(PortB, (byte)(In(PortB) & ~0x03));
        Program(2, 0, 0xFFFF);
        RunToTick(5000);
        Assert.Equal(0xFFFF, LatchAndRead(2));

        // pit_calibrate_tsc: gate high, mode 0, count, wait for OUT (bit 5) to rise.
        Out(PortB, (byte)((In(PortB) & ~0x02) | 0x01));
        Program(2, 0, 11932);
        long t = _clock.TicksAt(_now);
        Assert.Equal(0, In(PortB) & 0x20);
        RunToTick(t + 11932);
        Assert.Equal(0, In(PortB) & 0x20);
        RunToTick(t + 11933);
        Assert.Equal(0x20, In(PortB) & 0x20);
        Assert.Equal(0x01, In(PortB) & 0x0F);

        // Channel 2 has no interrupt line.
        Assert.Empty(_irq0.Rises);
    }

    [Fact]
    public void GateLowSuspendsMode0Counting()
    {
        Out(PortB, 0x01);
        Program(2, 0, 1000);
        long t = _clock.TicksAt(_now);
        RunToTick(t + 1 + 400);
        Out(PortB, 0x00);
        RunToTick(t + 1 + 900);
        Assert.Equal(600, _pit.GetCount(2));
        Out(PortB, 0x01);
        RunToTick(t + 1 + 900 + 599);
        Assert.False(_pit.GetOutput(2));
        RunToTick(t + 1 + 900 + 600);
        Assert.True(_pit.GetOutput(2));
    }

    [Fact]
    public void Mode1IsTriggeredByTheGate()
    {
        Program(2, 1, 100);
        Assert.True(_pit.GetOutput(2));
        RunToTick(500);
        Assert.True(_pit.GetOutput(2));
        Out(PortB, 0x01);
        long t = _clock.TicksAt(_now);
        RunToTick(t + 1);
        Assert.False(_pit.GetOutput(2));
        Assert.Equal(100, _pit.GetCount(2));
        RunToTick(t + 100);
        Assert.False(_pit.GetOutput(2));
        RunToTick(t + 101);
        Assert.True(_pit.GetOutput(2));
    }

    [Fact]
    public void Mode4StrobesOneTickAtTerminalCount()
    {
        Program(0, 4, 20);
        RunToTick(21);
        Assert.False(_pit.GetOutput(0));
        Assert.Empty(_irq0.Rises);
        RunToTick(22);
        Assert.True(_pit.GetOutput(0));
        RunTo(100_000_000);
        Assert.Equal([ExpectedCycle(22)], _irq0.Rises);
    }

    [Fact]
    public void BcdCountsInDecimal()
    {
        Out(Cmd, 0x35); // channel 0, lo/hi, mode 2, BCD
        Out(Ch0, 0x00);
        Out(Ch0, 0x10); // 1000 decimal
        RunToTick(1 + 1);
        Assert.Equal(0x0999, LatchAndRead(0));
        RunToTick(1 + 2001);
        Assert.Equal(0x0999, LatchAndRead(0));
        Assert.Equal(2, _irq0.Rises.Count);
        Assert.Equal(ExpectedCycle(1001), _irq0.Rises[0]);
    }

    [Fact]
    public void RefreshToggleFlipsWithTime()
    {
        var bits = new List<int>();
        for (int i = 0; i < 4; i++)
        {
            RunToTick(i * SystemControlPortB.RefreshTicks);
            bits.Add(In(PortB) & 0x10);
        }

        Assert.Equal([0, 0x10, 0, 0x10], bits);
    }

    [Fact]
    public void ControlPortReadsZeroAndWideAccessesSplit()
    {
        Assert.Equal(0, In(Cmd));
        Out(Cmd, 0x10); // channel 0, lobyte only, mode 0
        Out(Cmd, 0x50); // channel 1, lobyte only, mode 0
        _bus.Out(Ch0, 2, 0x0203); // 0x03 to port 0x40, 0x02 to port 0x41
        RunToTick(1);
        Assert.Equal(3, _pit.GetCount(0));
        Assert.Equal(2, _pit.GetCount(1));
    }
}
