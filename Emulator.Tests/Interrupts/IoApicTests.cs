using Emulator.Interrupts;
using Emulator.Memory;
using Emulator.Platform;

namespace Emulator.Tests.Interrupts;

public class IoApicTests
{
    private const uint Base = PhysicalMap.IoApicBase;

    private readonly FakeApicCpu[] _cpus = FakeApicCpu.Many(2);
    private readonly ApicSystem _system;
    private readonly IoApic _ioApic;
    private readonly MemoryBus _bus = new(new PhysicalMemory(1 << 20));

    public IoApicTests()
    {
        _system = new ApicSystem(new EventQueue(), _cpus);
        foreach (var apic in _system.LocalApics)
        {
            apic.WriteRegister(LocalApic.RegSvr, 0x1FF);
        }

        _ioApic = new IoApic(_system);
        _ioApic.MapInto(_bus);
    }

    private LocalApic Apic(int i) => _system.LocalApics[i];

    private uint ReadReg(uint index)
    {
        _bus.Write(0, Base, 4, index);
        return _bus.Read(0, Base + 0x10, 4);
    }

    private void WriteReg(uint index, uint value)
    {
        _bus.Write(0, Base, 4, index);
        _bus.Write(0, Base + 0x10, 4, value);
    }

    private void Program(int pin, uint low, byte destination = 0)
    {
        WriteReg(0x11 + (2 * (uint)pin), (uint)destination << 24);
        WriteReg(0x10 + (2 * (uint)pin), low);
    }

    private void Pulse(int pin)
    {
        _ioApic.GetPin(pin).SetLevel(true);
        _ioApic.GetPin(pin).SetLevel(false);
    }

    private void Service(LocalApic apic, int vector)
    {
        Assert.Equal(vector, apic.AcknowledgeInterrupt());
        apic.WriteRegister(LocalApic.RegEoi, 0);
    }

    [Fact]
    public void IdentificationRegisters()
    {
        Assert.Equal(0x00170011u, ReadReg(1));
        Assert.Equal(0u, ReadReg(0));
        WriteReg(0, 0xFFFFFFFF);
        Assert.Equal(0x0F000000u, ReadReg(0));
        Assert.Equal(0x0F000000u, ReadReg(2));
        WriteReg(1, 0);
        Assert.Equal(0x00170011u, ReadReg(1));
        _bus.Write(0, Base, 4, 0x01);
        Assert.Equal(0x01u, _bus.Read(0, Base, 4));
        Assert.Equal(0x17u, _bus.Read(0, Base + 0x12, 1));
    }

    [Fact]
    public void RedirectionEntriesResetMaskedAndKeepTheirWritableBits()
    {
        for (uint pin = 0; pin < 24; pin++)
        {
            Assert.Equal(0x10000u, ReadReg(0x10 + (2 * pin)));
            Assert.Equal(0u, ReadReg(0x11 + (2 * pin)));
        }

        WriteReg(0x10, 0xFFFFFFFF);
        WriteReg(0x11, 0xFFFFFFFF);
        Assert.Equal(0x1AFFFu, ReadReg(0x10)); // delivery status and remote IRR read-only
        Assert.Equal(0xFF000000u, ReadReg(0x11));
        Assert.Equal(0u, ReadReg(0x40)); // beyond the 24 entries
    }

    [Fact]
    public void NarrowWritesMergeIntoTheSelectedRegister()
    {
        _bus.Write(0, Base, 1, 0x12);
        _bus.Write(0, Base + 0x10, 1, 0x55);
        Assert.Equal(0x10055u, ReadReg(0x12));
    }

    [Fact]
    public void EdgeTriggeredPinSendsOnRisingEdges()
    {
        Program(3, 0x00000033, destination: 1);
        _ioApic.GetPin(3).SetLevel(true);
        Assert.True(Apic(1).IsRequested(0x33));
        Assert.False(Apic(0).IsRequested(0x33));
        Service(Apic(1), 0x33);

        _ioApic.GetPin(3).SetLevel(true); // still high: no edge
        Assert.False(Apic(1).IsRequested(0x33));
        _ioApic.GetPin(3).SetLevel(false);
        _ioApic.GetPin(3).SetLevel(true);
        Assert.True(Apic(1).IsRequested(0x33));
        Assert.Equal(2, _ioApic.MessagesSent);
    }

    [Fact]
    public void EdgeWhileMaskedIsLost()
    {
        Program(4, 0x00010034);
        Pulse(4);
        Program(4, 0x00000034);
        Assert.False(Apic(0).IsRequested(0x34));
        Pulse(4);
        Assert.True(Apic(0).IsRequested(0x34));
    }

    [Fact]
    public void LevelTriggeredPinUsesRemoteIrrUntilEoi()
    {
        var eois = new List<int>();
        _system.AddEoiListener(eois.Add);
        Program(10, 0x0000A03A); // level, active low, fixed, vector 0x3A
        _ioApic.GetPin(10).SetLevel(true);
        Assert.True(Apic(0).IsRequested(0x3A));
        Assert.Equal(0xE03Au, ReadReg(0x10 + 20) & 0xFFFF); // remote IRR set
        Assert.Equal(1, _ioApic.MessagesSent);

        // Still asserted at EOI: sent again.
        Service(Apic(0), 0x3A);
        Assert.Equal([0x3A], eois);
        Assert.True(Apic(0).IsRequested(0x3A));
        Assert.Equal(2, _ioApic.MessagesSent);

        // De-asserted before EOI: remote IRR clears, nothing more is sent.
        _ioApic.GetPin(10).SetLevel(false);
        Service(Apic(0), 0x3A);
        Assert.Equal(0xA03Au, ReadReg(0x10 + 20) & 0xFFFF);
        Assert.False(Apic(0).IsRequested(0x3A));
        Assert.Equal(2, _ioApic.MessagesSent);
    }

    [Fact]
    public void EoiOfAnotherVectorLeavesRemoteIrrSet()
    {
        Program(5, 0x00008045);
        _ioApic.GetPin(5).SetLevel(true);
        Apic(0).AcceptFixed(0x50, levelTriggered: true);
        Service(Apic(0), 0x50);
        Assert.NotEqual(0u, ReadReg(0x10 + 10) & (1u << 14));
    }

    [Fact]
    public void UnmaskingAnAssertedLevelPinSendsIt()
    {
        Program(6, 0x00018046);
        _ioApic.GetPin(6).SetLevel(true);
        Assert.False(Apic(0).IsRequested(0x46));
        Program(6, 0x00008046);
        Assert.True(Apic(0).IsRequested(0x46));
    }

    [Fact]
    public void WritingEdgeTriggerClearsRemoteIrr()
    {
        Program(7, 0x00008047);
        _ioApic.GetPin(7).SetLevel(true);
        Assert.NotEqual(0u, ReadReg(0x10 + 14) & (1u << 14));
        WriteReg(0x10 + 14, 0x00010047);
        Assert.Equal(0u, ReadReg(0x10 + 14) & (1u << 14));
    }

    [Fact]
    public void LogicalAndLowestPriorityDestinations()
    {
        Apic(0).WriteRegister(LocalApic.RegLdr, 0x01000000);
        Apic(1).WriteRegister(LocalApic.RegLdr, 0x02000000);
        Program(1, 0x00000851, destination: 0x02); // logical
        Pulse(1);
        Assert.False(Apic(0).IsRequested(0x51));
        Assert.True(Apic(1).IsRequested(0x51));

        Apic(0).WriteRegister(LocalApic.RegTpr, 0x80);
        Program(2, 0x00000952, destination: 0x03); // logical, lowest priority
        Pulse(2);
        Assert.False(Apic(0).IsRequested(0x52));
        Assert.True(Apic(1).IsRequested(0x52));
    }

    [Fact]
    public void NmiAndExtIntEntries()
    {
        var pic = new FakeExtIntController(0x20);
        _system.ExtIntController = pic;
        Program(0, 0x00000700); // ExtINT
        Program(8, 0x00000400, destination: 1); // NMI
        Pulse(0);
        Assert.True(Apic(0).HasPendingInterrupt);
        Assert.Equal(0x20, Apic(0).AcknowledgeInterrupt());
        Pulse(8);
        Assert.True(Apic(1).TakeNmi());
    }
}
