using Emulator.Interrupts;
using Emulator.Memory;
using Emulator.Tests.Devices;

namespace Emulator.Tests.Interrupts;

public class Pic8259PairTests
{
    private readonly IoPortBus _io = new();
    private readonly RecordingInterruptLine _intr = new();
    private readonly Pic8259Pair _pic;

    public Pic8259PairTests()
    {
        _pic = new Pic8259Pair(_intr);
        _pic.RegisterOn(_io);
    }

    private void Out(ushort port, byte value) => _io.Out(port, 1, value);

    private byte In(ushort port) => (byte)_io.In(port, 1);

    /// <summary>The Linux/BIOS style initialisation: vectors 0x20 and 0x28, cascade on IRQ2, 8086 mode.</summary>
    private void Initialize(byte icw4 = 0x01)
    {
        Out(0x20, 0x11);
        Out(0x21, 0x20);
        Out(0x21, 0x04);
        Out(0x21, icw4);
        Out(0xA0, 0x11);
        Out(0xA1, 0x28);
        Out(0xA1, 0x02);
        Out(0xA1, icw4);
    }

    private void Pulse(int irq)
    {
        _pic.GetPin(irq).SetLevel(true);
        _pic.GetPin(irq).SetLevel(false);
    }

    [Fact]
    public void InitialisationSequenceSetsVectorBasesAndClearsMasks()
    {
        Out(0x21, 0xFF);
        Initialize();
        Assert.Equal((0x20, 0x28), _pic.VectorBases);
        Assert.Equal(0, In(0x21));
        Assert.Equal(0, In(0xA1));
        Out(0x21, 0xB8);
        Out(0xA1, 0x5A);
        Assert.Equal(0xB8, In(0x21));
        Assert.Equal(0x5A, In(0xA1));
        Assert.Equal(0x5AB8, _pic.Imr);
    }

    [Fact]
    public void InitialisationWithoutIcw4OrIcw3()
    {
        Out(0x20, 0x12); // single, no ICW4
        Out(0x21, 0x40);
        Out(0x21, 0x7F); // now OCW1
        Assert.Equal(0x40, _pic.VectorBases.Master);
        Assert.Equal(0x7F, In(0x21));
    }

    [Fact]
    public void EdgeRequestRaisesIntrAndInta()
    {
        Initialize();
        Assert.Empty(_intr.Levels);
        Pulse(1);
        Assert.True(_intr.Level);
        Assert.True(_pic.HasPendingInterrupt);
        Assert.Equal(0x02, _pic.Irr);

        Assert.Equal(0x21, _pic.AcknowledgeInterrupt());
        Assert.False(_intr.Level);
        Assert.Equal(0, _pic.Irr);
        Assert.Equal(0x02, _pic.Isr);

        Out(0x20, 0x20); // non-specific EOI
        Assert.Equal(0, _pic.Isr);
        Assert.Equal([true, false], _intr.Levels);
    }

    [Fact]
    public void PriorityAndNesting()
    {
        Initialize();
        Pulse(3);
        Pulse(5);
        Assert.Equal(0x23, _pic.AcknowledgeInterrupt());
        Assert.False(_pic.HasPendingInterrupt); // IRQ5 is below IRQ3 in service
        Pulse(0);
        Assert.True(_pic.HasPendingInterrupt); // IRQ0 nests
        Assert.Equal(0x20, _pic.AcknowledgeInterrupt());
        Assert.Equal(0x09, _pic.Isr);

        Out(0x20, 0x20); // clears IRQ0, the highest in service
        Assert.Equal(0x08, _pic.Isr);
        Assert.False(_pic.HasPendingInterrupt);
        Out(0x20, 0x63); // specific EOI for IRQ3
        Assert.Equal(0, _pic.Isr);
        Assert.Equal(0x25, _pic.AcknowledgeInterrupt());
    }

    [Fact]
    public void MaskedRequestsWaitInIrr()
    {
        Initialize();
        Out(0x21, 0x10);
        Pulse(4);
        Assert.False(_pic.HasPendingInterrupt);
        Assert.Equal(0x10, _pic.Irr);
        Out(0x21, 0x00);
        Assert.True(_pic.HasPendingInterrupt);
        Assert.Equal(0x24, _pic.AcknowledgeInterrupt());
    }

    [Fact]
    public void Ocw3SelectsIrrOrIsrForReading()
    {
        Initialize();
        Pulse(6);
        Pulse(7);
        _pic.AcknowledgeInterrupt();
        Assert.Equal(0x80, In(0x20)); // IRR after ICW1
        Out(0x20, 0x0B);
        Assert.Equal(0x40, In(0x20));
        Out(0x20, 0x08); // RR = 0: selection unchanged
        Assert.Equal(0x40, In(0x20));
        Out(0x20, 0x0A);
        Assert.Equal(0x80, In(0x20));
    }

    [Fact]
    public void PollReadsAndAcknowledgesTheHighestRequest()
    {
        Initialize();
        Pulse(5);
        Out(0x20, 0x0C);
        Assert.Equal(0x85, In(0x20));
        Assert.Equal(0x20, _pic.Isr);
        Assert.False(_intr.Level);
        Out(0x20, 0x0C);
        Assert.Equal(0x00, In(0x20));
    }

    [Fact]
    public void SlaveRequestsCascadeThroughIrq2()
    {
        Initialize();
        Pulse(10);
        Assert.True(_intr.Level);
        Assert.Equal(0x0404, _pic.Irr);
        Assert.Equal(0x2A, _pic.AcknowledgeInterrupt());
        Assert.Equal(0x0404, _pic.Isr);
        Assert.False(_intr.Level);

        Pulse(9); // higher than IRQ10 on the slave, but the master's IRQ2 is in service
        Assert.False(_intr.Level);
        Out(0xA0, 0x20);
        Out(0x20, 0x20);
        Assert.True(_intr.Level);
        Assert.Equal(0x29, _pic.AcknowledgeInterrupt());
    }

    [Fact]
    public void SlaveRequestsPendingAfterIntaAreNotLost()
    {
        Initialize(icw4: 0x03); // automatic EOI
        Pulse(8);
        Pulse(9);
        Assert.Equal(0x28, _pic.AcknowledgeInterrupt());
        Assert.True(_intr.Level);
        Assert.Equal(0x29, _pic.AcknowledgeInterrupt());
        Assert.False(_intr.Level);
        Assert.Equal(0, _pic.Isr);
    }

    [Fact]
    public void AutomaticEoiLeavesIsrClear()
    {
        Initialize(icw4: 0x03);
        Pulse(3);
        Assert.Equal(0x23, _pic.AcknowledgeInterrupt());
        Assert.Equal(0, _pic.Isr);
        Pulse(4);
        Assert.Equal(0x24, _pic.AcknowledgeInterrupt());
    }

    [Fact]
    public void SpuriousIrq7WhenNothingIsPending()
    {
        Initialize();
        Assert.Equal(0x27, _pic.AcknowledgeInterrupt());
        Assert.Equal(0, _pic.Isr);
        Assert.Equal(1, _pic.SpuriousCount);
    }

    [Fact]
    public void SpuriousIrq15WhenTheSlaveRequestIsWithdrawn()
    {
        Initialize();
        Pulse(11);
        Assert.True(_intr.Level);
        Out(0xA1, 0x08); // masked on the slave before INTA
        Assert.Equal(0x2F, _pic.AcknowledgeInterrupt());
        Assert.Equal(0x0004, _pic.Isr); // the master's cascade is in service
        Assert.Equal(1, _pic.SpuriousCount);
    }

    [Fact]
    public void LevelTriggeredInputsFollowTheLineViaElcr()
    {
        Initialize();
        Out(0x4D1, 0xFF);
        Assert.Equal(0xDE, In(0x4D1));
        Out(0x4D0, 0xFF);
        Assert.Equal(0xF8, In(0x4D0));

        _pic.GetPin(11).SetLevel(true);
        Assert.Equal(0x2B, _pic.AcknowledgeInterrupt());
        Assert.Equal(0x0800, _pic.Irr); // still requested while the line is high
        Out(0xA0, 0x20);
        Out(0x20, 0x20);
        Assert.True(_intr.Level);
        _pic.GetPin(11).SetLevel(false);
        Assert.Equal(0x0004, _pic.Irr); // the cascade request stays latched on the master

        // Withdrawn before INTA: spurious IRQ15.
        Assert.Equal(0x2F, _pic.AcknowledgeInterrupt());
        Assert.False(_intr.Level);
    }

    [Fact]
    public void RotateOnNonSpecificEoiMakesTheServicedIrqLowest()
    {
        Initialize();
        Pulse(1);
        Assert.Equal(0x21, _pic.AcknowledgeInterrupt());
        Out(0x20, 0xA0); // rotate on non-specific EOI: IRQ1 lowest, IRQ2 highest
        Pulse(0);
        Pulse(3);
        Assert.Equal(0x23, _pic.AcknowledgeInterrupt());
        Out(0x20, 0xC7); // set priority: IRQ7 lowest again
        Out(0x20, 0x20);
        Assert.Equal(0x20, _pic.AcknowledgeInterrupt());
    }

    [Fact]
    public void Icw1ForgetsEdgesAndRequiresANewOne()
    {
        Initialize();
        _pic.GetPin(4).SetLevel(true);
        Initialize();
        Assert.False(_pic.HasPendingInterrupt);
        _pic.GetPin(4).SetLevel(true);
        Assert.False(_pic.HasPendingInterrupt);
        _pic.GetPin(4).SetLevel(false);
        _pic.GetPin(4).SetLevel(true);
        Assert.True(_pic.HasPendingInterrupt);
    }

    [Fact]
    public void BiosInitialisationMasksAllButTheCascade()
    {
        _pic.InitializeLikeBios();
        Assert.Equal((0x08, 0x70), _pic.VectorBases);
        Assert.Equal(0xFFFB, _pic.Imr);
    }

    [Fact]
    public void ThroughTheLocalApicVirtualWire()
    {
        var cpu = new FakeApicCpu(0, 0);
        var system = new ApicSystem(new Emulator.Platform.EventQueue(), [cpu]);
        system.ExtIntController = _pic;
        _pic.Output = system.LocalApics[0].Lint0;
        system.ApplyFirmwareDefaults();
        Initialize();
        var apic = system.LocalApics[0];

        Pulse(4);
        Assert.True(apic.HasPendingInterrupt);
        Assert.Equal(0x24, apic.AcknowledgeInterrupt());
        Assert.False(apic.HasPendingInterrupt);
        Out(0x20, 0x20);

        // With the APIC globally disabled LINT0 is the CPU's INTR pin.
        apic.SetGloballyEnabled(false);
        Pulse(3);
        Assert.True(apic.HasPendingInterrupt);
        Assert.Equal(0x23, apic.AcknowledgeInterrupt());
    }
}
