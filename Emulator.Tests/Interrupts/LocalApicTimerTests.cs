using Emulator.Interrupts;
using Emulator.Platform;

namespace Emulator.Tests.Interrupts;

public class LocalApicTimerTests
{
    private const uint DivideBy1 = 0xB;
    private const uint DivideBy2 = 0x0;

    private readonly EventQueue _events = new();
    private readonly FakeApicCpu _cpu = new(0, 0);

    private LocalApic NewApic(long cyclesPerBusTick = 1)
    {
        var system = new ApicSystem(_events, [_cpu], cyclesPerBusTick);
        var apic = system.LocalApics[0];
        apic.WriteRegister(LocalApic.RegSvr, 0x1FF);
        return apic;
    }

    /// <summary>Moves the fake clock to <paramref name="cycle"/> and fires the events due.</summary>
    private void AdvanceTo(long cycle)
    {
        _cpu.Cycles = cycle;
        _events.RunDue(cycle);
    }

    [Theory]
    [InlineData(0x0u, 2)]
    [InlineData(0x1u, 4)]
    [InlineData(0x2u, 8)]
    [InlineData(0x3u, 16)]
    [InlineData(0x8u, 32)]
    [InlineData(0x9u, 64)]
    [InlineData(0xAu, 128)]
    [InlineData(0xBu, 1)]
    public void DivideConfigurationEncodings(uint dcr, int divisor)
    {
        var apic = NewApic();
        apic.WriteRegister(LocalApic.RegTimerDivide, dcr);
        Assert.Equal(divisor, apic.TimerDivisor);
        apic.WriteRegister(LocalApic.RegLvtTimer, 0x40);
        _cpu.Cycles = 1000;
        apic.WriteRegister(LocalApic.RegTimerInitial, 10);
        Assert.Equal(1000 + (10L * divisor), apic.TimerDeadline);
    }

    [Fact]
    public void OneShotFiresOnceAtTheExactCycle()
    {
        var apic = NewApic();
        apic.WriteRegister(LocalApic.RegTimerDivide, DivideBy1);
        apic.WriteRegister(LocalApic.RegLvtTimer, 0x40);
        _cpu.Cycles = 1000;
        apic.WriteRegister(LocalApic.RegTimerInitial, 100);
        Assert.Equal(100u, apic.ReadRegister(LocalApic.RegTimerInitial));
        Assert.Equal(100u, apic.ReadRegister(LocalApic.RegTimerCurrent));

        AdvanceTo(1050);
        Assert.Equal(50u, apic.ReadRegister(LocalApic.RegTimerCurrent));
        AdvanceTo(1099);
        Assert.Equal(1u, apic.ReadRegister(LocalApic.RegTimerCurrent));
        Assert.False(apic.IsRequested(0x40));
        Assert.Equal(1100, _events.NextTime);

        AdvanceTo(1100);
        Assert.True(apic.IsRequested(0x40));
        Assert.Equal(0u, apic.ReadRegister(LocalApic.RegTimerCurrent));
        Assert.Equal(0x40, apic.AcknowledgeInterrupt());
        apic.WriteRegister(LocalApic.RegEoi, 0);

        AdvanceTo(5000);
        Assert.False(apic.IsRequested(0x40));
        Assert.Null(apic.TimerDeadline);
        Assert.Equal(0u, apic.ReadRegister(LocalApic.RegTimerCurrent));
    }

    [Fact]
    public void PeriodicReloadsAndFiresEveryPeriod()
    {
        var apic = NewApic();
        apic.WriteRegister(LocalApic.RegTimerDivide, DivideBy2);
        apic.WriteRegister(LocalApic.RegLvtTimer, 0x20041); // periodic, vector 0x41
        apic.WriteRegister(LocalApic.RegTimerInitial, 10); // at cycle 0: period 20 cycles
        var fired = new List<long>();
        for (long t = 1; t <= 65; t++)
        {
            AdvanceTo(t);
            if (apic.IsRequested(0x41))
            {
                fired.Add(t);
                apic.AcknowledgeInterrupt();
                apic.WriteRegister(LocalApic.RegEoi, 0);
            }
        }

        Assert.Equal([20L, 40L, 60L], fired);
        _cpu.Cycles = 61;
        Assert.Equal(10u, apic.ReadRegister(LocalApic.RegTimerCurrent));
        _cpu.Cycles = 79;
        Assert.Equal(1u, apic.ReadRegister(LocalApic.RegTimerCurrent));
    }

    [Fact]
    public void CurrentCountIsComputedEvenBeforeTheEventFires()
    {
        var apic = NewApic();
        apic.WriteRegister(LocalApic.RegTimerDivide, DivideBy1);
        apic.WriteRegister(LocalApic.RegLvtTimer, 0x20041);
        apic.WriteRegister(LocalApic.RegTimerInitial, 10);
        _cpu.Cycles = 25; // two expiries not yet run
        Assert.Equal(5u, apic.ReadRegister(LocalApic.RegTimerCurrent));
    }

    [Fact]
    public void MaskedTimerKeepsCountingWithoutInterrupts()
    {
        var apic = NewApic();
        apic.WriteRegister(LocalApic.RegTimerDivide, DivideBy1);
        apic.WriteRegister(LocalApic.RegLvtTimer, 0x30041); // periodic, masked
        apic.WriteRegister(LocalApic.RegTimerInitial, 10);
        AdvanceTo(35);
        Assert.False(apic.IsRequested(0x41));
        Assert.Equal(5u, apic.ReadRegister(LocalApic.RegTimerCurrent));
        apic.WriteRegister(LocalApic.RegLvtTimer, 0x20041);
        AdvanceTo(40);
        Assert.True(apic.IsRequested(0x41));
    }

    [Fact]
    public void BusClockRatioScalesTheTimer()
    {
        var apic = NewApic(cyclesPerBusTick: 4);
        apic.WriteRegister(LocalApic.RegTimerDivide, DivideBy2);
        apic.WriteRegister(LocalApic.RegLvtTimer, 0x40);
        _cpu.Cycles = 100;
        apic.WriteRegister(LocalApic.RegTimerInitial, 5);
        Assert.Equal(100 + (5 * 4 * 2), apic.TimerDeadline);
        _cpu.Cycles = 108;
        Assert.Equal(4u, apic.ReadRegister(LocalApic.RegTimerCurrent));
        _cpu.Cycles = 107;
        Assert.Equal(5u, apic.ReadRegister(LocalApic.RegTimerCurrent));
    }

    [Fact]
    public void WritingZeroStopsTheTimer()
    {
        var apic = NewApic();
        apic.WriteRegister(LocalApic.RegLvtTimer, 0x20041);
        apic.WriteRegister(LocalApic.RegTimerInitial, 10);
        AdvanceTo(5);
        apic.WriteRegister(LocalApic.RegTimerInitial, 0);
        AdvanceTo(1000);
        Assert.False(apic.IsRequested(0x41));
        Assert.Equal(0u, apic.ReadRegister(LocalApic.RegTimerCurrent));
        Assert.Equal(long.MaxValue, _events.NextTime);
    }

    [Fact]
    public void RewritingTheInitialCountRestartsTheCountdown()
    {
        var apic = NewApic();
        apic.WriteRegister(LocalApic.RegTimerDivide, DivideBy1);
        apic.WriteRegister(LocalApic.RegLvtTimer, 0x41);
        apic.WriteRegister(LocalApic.RegTimerInitial, 10);
        AdvanceTo(8);
        apic.WriteRegister(LocalApic.RegTimerInitial, 10);
        AdvanceTo(10);
        Assert.False(apic.IsRequested(0x41));
        AdvanceTo(18);
        Assert.True(apic.IsRequested(0x41));
    }

    [Fact]
    public void ChangingTheDividerKeepsTheCurrentCount()
    {
        var apic = NewApic();
        apic.WriteRegister(LocalApic.RegTimerDivide, DivideBy1);
        apic.WriteRegister(LocalApic.RegLvtTimer, 0x41);
        apic.WriteRegister(LocalApic.RegTimerInitial, 100);
        AdvanceTo(40);
        apic.WriteRegister(LocalApic.RegTimerDivide, 0x1); // divide by 4
        Assert.Equal(60u, apic.ReadRegister(LocalApic.RegTimerCurrent));
        Assert.Equal(40 + (60 * 4), apic.TimerDeadline);
        AdvanceTo(48);
        Assert.Equal(58u, apic.ReadRegister(LocalApic.RegTimerCurrent));
    }

    [Fact]
    public void SwitchingOneShotToPeriodicWhileCounting()
    {
        var apic = NewApic();
        apic.WriteRegister(LocalApic.RegTimerDivide, DivideBy1);
        apic.WriteRegister(LocalApic.RegLvtTimer, 0x41);
        apic.WriteRegister(LocalApic.RegTimerInitial, 10);
        AdvanceTo(4);
        apic.WriteRegister(LocalApic.RegLvtTimer, 0x20041);
        AdvanceTo(10);
        Assert.True(apic.IsRequested(0x41));
        Assert.Equal(20, apic.TimerDeadline);
    }

    [Fact]
    public void InitStopsTheTimer()
    {
        var apic = NewApic();
        apic.WriteRegister(LocalApic.RegLvtTimer, 0x20041);
        apic.WriteRegister(LocalApic.RegTimerInitial, 10);
        apic.WriteRegister(LocalApic.RegIcrLow, 0x00040500); // INIT to self is invalid: dropped
        Assert.NotNull(apic.TimerDeadline);
        apic.WriteRegister(LocalApic.RegIcrHigh, 0);
        apic.WriteRegister(LocalApic.RegIcrLow, 0x00000500); // INIT to APIC 0 (itself)
        Assert.Null(apic.TimerDeadline);
        Assert.Equal(0u, apic.ReadRegister(LocalApic.RegTimerInitial));
        AdvanceTo(1000);
        Assert.False(apic.IsRequested(0x41));
    }
}
