using Emulator.Cpu;
using Emulator.Interrupts;
using Emulator.Memory;
using Emulator.Platform;

namespace Emulator.Tests.Interrupts;

public class LocalApicTests
{
    private readonly EventQueue _events = new();
    private readonly FakeApicCpu[] _cpus;
    private readonly ApicSystem _system;
    private readonly LocalApic _apic;

    public LocalApicTests()
    {
        _cpus = [new FakeApicCpu(0, 0), new FakeApicCpu(1, 3)];
        _system = new ApicSystem(_events, _cpus);
        _apic = _system.LocalApics[0];
    }

    private void Enable(LocalApic apic) => apic.WriteRegister(LocalApic.RegSvr, 0x1FF);

    [Fact]
    public void PowerUpRegisterValues()
    {
        Assert.Equal(0u, _apic.ReadRegister(LocalApic.RegId));
        Assert.Equal(3u << 24, _system.LocalApics[1].ReadRegister(LocalApic.RegId));
        Assert.Equal(0x00050014u, _apic.ReadRegister(LocalApic.RegVersion));
        Assert.Equal(0u, _apic.ReadRegister(LocalApic.RegTpr));
        Assert.Equal(0u, _apic.ReadRegister(LocalApic.RegPpr));
        Assert.Equal(0u, _apic.ReadRegister(LocalApic.RegLdr));
        Assert.Equal(0xFFFFFFFFu, _apic.ReadRegister(LocalApic.RegDfr));
        Assert.Equal(0xFFu, _apic.ReadRegister(LocalApic.RegSvr));
        for (int reg = LocalApic.RegLvtTimer; reg <= LocalApic.RegLvtError; reg += 0x10)
        {
            Assert.Equal(0x10000u, _apic.ReadRegister(reg));
        }

        for (int reg = LocalApic.RegIsr; reg < LocalApic.RegEsr; reg += 0x10)
        {
            Assert.Equal(0u, _apic.ReadRegister(reg));
        }

        Assert.Equal(0u, _apic.ReadRegister(LocalApic.RegTimerInitial));
        Assert.Equal(0u, _apic.ReadRegister(LocalApic.RegTimerCurrent));
        Assert.Equal(0u, _apic.ReadRegister(LocalApic.RegTimerDivide));
        Assert.False(_apic.SoftwareEnabled);
        Assert.True(_apic.GloballyEnabled);
    }

    [Fact]
    public void WritableBitsOfSimpleRegisters()
    {
        _apic.WriteRegister(LocalApic.RegId, 0xFFFFFFFF);
        Assert.Equal(0xFF000000u, _apic.ReadRegister(LocalApic.RegId));
        _apic.WriteRegister(LocalApic.RegTpr, 0xFFFFFFFF);
        Assert.Equal(0xFFu, _apic.ReadRegister(LocalApic.RegTpr));
        _apic.WriteRegister(LocalApic.RegLdr, 0x12345678);
        Assert.Equal(0x12000000u, _apic.ReadRegister(LocalApic.RegLdr));
        _apic.WriteRegister(LocalApic.RegDfr, 0);
        Assert.Equal(0x0FFFFFFFu, _apic.ReadRegister(LocalApic.RegDfr));
        _apic.WriteRegister(LocalApic.RegVersion, 0);
        Assert.Equal(LocalApic.VersionValue, _apic.ReadRegister(LocalApic.RegVersion));
        _apic.WriteRegister(LocalApic.RegIcrHigh, 0xFFFFFFFF);
        Assert.Equal(0xFF000000u, _apic.ReadRegister(LocalApic.RegIcrHigh));
        _apic.WriteRegister(LocalApic.RegTimerDivide, 0xFFFFFFFF);
        Assert.Equal(0xBu, _apic.ReadRegister(LocalApic.RegTimerDivide));
    }

    [Fact]
    public void SoftwareDisabledApicKeepsLvtMaskedAndDropsFixedInterrupts()
    {
        _apic.WriteRegister(LocalApic.RegLvtLint0, 0x700);
        Assert.Equal(0x10700u, _apic.ReadRegister(LocalApic.RegLvtLint0));
        _apic.AcceptFixed(0x40, false);
        Assert.False(_apic.IsRequested(0x40));

        Enable(_apic);
        _apic.WriteRegister(LocalApic.RegLvtLint0, 0x700);
        Assert.Equal(0x700u, _apic.ReadRegister(LocalApic.RegLvtLint0));
        _apic.AcceptFixed(0x40, false);
        Assert.True(_apic.IsRequested(0x40));

        _apic.WriteRegister(LocalApic.RegSvr, 0xFF);
        Assert.Equal(0x10700u, _apic.ReadRegister(LocalApic.RegLvtLint0));
        Assert.Equal(0x10000u, _apic.ReadRegister(LocalApic.RegLvtTimer));
    }

    [Fact]
    public void LvtWritableBitsAndReadOnlyStatus()
    {
        Enable(_apic);
        _apic.WriteRegister(LocalApic.RegLvtTimer, 0xFFFFFFFF);
        Assert.Equal(0x300FFu, _apic.ReadRegister(LocalApic.RegLvtTimer));
        _apic.WriteRegister(LocalApic.RegLvtLint0, 0xFFFFFFFF);
        Assert.Equal(0x1A7FFu, _apic.ReadRegister(LocalApic.RegLvtLint0));
        _apic.WriteRegister(LocalApic.RegLvtError, 0xFFFFFFFF);
        Assert.Equal(0x100FFu, _apic.ReadRegister(LocalApic.RegLvtError));
        _apic.WriteRegister(LocalApic.RegLvtPerf, 0xFFFFFFFF);
        Assert.Equal(0x107FFu, _apic.ReadRegister(LocalApic.RegLvtPerf));
    }

    [Fact]
    public void HighestRequestIsDeliveredAndIsrNests()
    {
        Enable(_apic);
        _apic.AcceptFixed(0x31, false);
        _apic.AcceptFixed(0x52, false);
        Assert.True(_apic.HasPendingInterrupt);
        Assert.Equal(0x52, _apic.AcknowledgeInterrupt());
        Assert.True(_apic.IsInService(0x52));
        Assert.False(_apic.IsRequested(0x52));
        Assert.Equal(0x50, _apic.Ppr);

        // 0x31 is below the in-service class: blocked until EOI.
        Assert.False(_apic.HasPendingInterrupt);
        _apic.AcceptFixed(0x55, false);
        Assert.False(_apic.HasPendingInterrupt);

        // A higher class nests.
        _apic.AcceptFixed(0x61, false);
        Assert.True(_apic.HasPendingInterrupt);
        Assert.Equal(0x61, _apic.AcknowledgeInterrupt());
        Assert.Equal(0x60, _apic.Ppr);

        _apic.WriteRegister(LocalApic.RegEoi, 0);
        Assert.False(_apic.IsInService(0x61));
        Assert.True(_apic.IsInService(0x52));
        Assert.False(_apic.HasPendingInterrupt);

        _apic.WriteRegister(LocalApic.RegEoi, 0);
        Assert.Equal(0x55, _apic.AcknowledgeInterrupt());
        _apic.WriteRegister(LocalApic.RegEoi, 0);
        Assert.Equal(0x31, _apic.AcknowledgeInterrupt());
        _apic.WriteRegister(LocalApic.RegEoi, 0);
        Assert.False(_apic.HasPendingInterrupt);
        Assert.Equal(0, _apic.Ppr);
    }

    [Fact]
    public void IrrIsrAndTmrRegistersShowVectorBits()
    {
        Enable(_apic);
        _apic.AcceptFixed(0x21, false);
        _apic.AcceptFixed(0xFE, true);
        Assert.Equal(1u << 1, _apic.ReadRegister(LocalApic.RegIrr + 0x10));
        Assert.Equal(1u << 30, _apic.ReadRegister(LocalApic.RegIrr + 0x70));
        Assert.Equal(1u << 30, _apic.ReadRegister(LocalApic.RegTmr + 0x70));
        Assert.Equal(0u, _apic.ReadRegister(LocalApic.RegTmr + 0x10));
        Assert.Equal(0xFE, _apic.AcknowledgeInterrupt());
        Assert.Equal(1u << 30, _apic.ReadRegister(LocalApic.RegIsr + 0x70));
        Assert.Equal(0u, _apic.ReadRegister(LocalApic.RegIrr + 0x70));
        _apic.WriteRegister(LocalApic.RegIrr, 0xFFFFFFFF); // read-only
        Assert.Equal(0u, _apic.ReadRegister(LocalApic.RegIrr));
    }

    [Fact]
    public void TaskPriorityBlocksItsClassAndBelow()
    {
        Enable(_apic);
        _apic.WriteRegister(LocalApic.RegTpr, 0x5A);
        Assert.Equal(0x5A, _apic.Ppr);
        _apic.AcceptFixed(0x5F, false);
        Assert.False(_apic.HasPendingInterrupt);
        _apic.AcceptFixed(0x60, false);
        Assert.Equal(0x60, _apic.AcknowledgeInterrupt());
        Assert.Equal(0x60, _apic.Ppr);
        _apic.WriteRegister(LocalApic.RegEoi, 0);

        int exits = _cpus[0].ExitRequests;
        _apic.WriteRegister(LocalApic.RegTpr, 0x40);
        Assert.True(_apic.HasPendingInterrupt);
        Assert.True(_cpus[0].ExitRequests > exits, "lowering TPR below a request tells the CPU");
        Assert.Equal(0x5F, _apic.AcknowledgeInterrupt());
    }

    [Fact]
    public void AcknowledgeWithNothingDeliverableReturnsTheSpuriousVector()
    {
        _apic.WriteRegister(LocalApic.RegSvr, 0x1EF);
        Assert.Equal(0xEF, _apic.AcknowledgeInterrupt());
        _apic.WriteRegister(LocalApic.RegTpr, 0xF0);
        _apic.AcceptFixed(0x80, false);
        Assert.Equal(0xEF, _apic.AcknowledgeInterrupt());
        Assert.True(_apic.IsRequested(0x80));
        Assert.Equal(0u, _apic.ReadRegister(LocalApic.RegIsr + 0x70));
    }

    [Fact]
    public void ArbitrationPriority()
    {
        Enable(_apic);
        _apic.WriteRegister(LocalApic.RegTpr, 0x35);
        Assert.Equal(0x35, _apic.Apr);
        _apic.AcceptFixed(0x70, false);
        Assert.Equal(0x70, _apic.Apr);
        _apic.AcknowledgeInterrupt();
        Assert.Equal(0x70, _apic.Apr);
        Assert.Equal(0x70u, _apic.ReadRegister(LocalApic.RegApr));
    }

    [Fact]
    public void LevelTriggeredEoiIsBroadcastEdgeIsNot()
    {
        var eois = new List<int>();
        _system.AddEoiListener(eois.Add);
        Enable(_apic);
        _apic.AcceptFixed(0x51, levelTriggered: false);
        _apic.AcceptFixed(0x42, levelTriggered: true);
        Assert.Equal(0x51, _apic.AcknowledgeInterrupt());
        _apic.WriteRegister(LocalApic.RegEoi, 0);
        Assert.Empty(eois);
        Assert.Equal(0x42, _apic.AcknowledgeInterrupt());
        _apic.WriteRegister(LocalApic.RegEoi, 0);
        Assert.Equal([0x42], eois);
        _apic.WriteRegister(LocalApic.RegEoi, 0); // nothing in service: no effect
        Assert.Equal([0x42], eois);
    }

    [Fact]
    public void ErrorStatusIsLatchedByAWrite()
    {
        Enable(_apic);
        _apic.WriteRegister(LocalApic.RegIcrLow, 0x00040005); // fixed vector 5 to self: illegal
        Assert.Equal(0u, _apic.ReadRegister(LocalApic.RegEsr));
        _apic.WriteRegister(LocalApic.RegEsr, 0);
        Assert.Equal(LocalApic.EsrSendIllegalVector, _apic.ReadRegister(LocalApic.RegEsr));
        _apic.WriteRegister(LocalApic.RegEsr, 0);
        Assert.Equal(0u, _apic.ReadRegister(LocalApic.RegEsr));

        _apic.ReadRegister(0x40); // reserved
        _apic.WriteRegister(LocalApic.RegEsr, 0);
        Assert.Equal(LocalApic.EsrIllegalRegister, _apic.ReadRegister(LocalApic.RegEsr));
    }

    [Fact]
    public void ErrorRaisesTheLvtErrorInterrupt()
    {
        Enable(_apic);
        _apic.WriteRegister(LocalApic.RegLvtError, 0xFE);
        _apic.AcceptFixed(0x03, false);
        Assert.True(_apic.IsRequested(0xFE));
        Assert.False(_apic.IsRequested(0x03));
        _apic.WriteRegister(LocalApic.RegEsr, 0);
        Assert.Equal(LocalApic.EsrReceiveIllegalVector, _apic.ReadRegister(LocalApic.RegEsr));
    }

    [Fact]
    public void IllegalErrorVectorDoesNotRecurse()
    {
        Enable(_apic);
        _apic.WriteRegister(LocalApic.RegLvtError, 0x02);
        _apic.AcceptFixed(0x01, false);
        _apic.WriteRegister(LocalApic.RegEsr, 0);
        Assert.Equal(LocalApic.EsrReceiveIllegalVector, _apic.ReadRegister(LocalApic.RegEsr));
    }

    [Fact]
    public void FixedInterruptWakesAHaltedCpuOnlyWithInterruptsEnabled()
    {
        Enable(_apic);
        var cpu = _cpus[0];
        cpu.State = RunState.Halted;
        cpu.InterruptsEnabled = false;
        _apic.AcceptFixed(0x40, false);
        Assert.Equal(RunState.Halted, cpu.State);

        _apic.WriteRegister(LocalApic.RegTpr, 0xF0);
        cpu.InterruptsEnabled = true;
        _apic.AcceptFixed(0x41, false);
        Assert.Equal(RunState.Halted, cpu.State); // blocked by TPR

        _apic.WriteRegister(LocalApic.RegTpr, 0);
        Assert.Equal(RunState.Running, cpu.State);
    }

    [Fact]
    public void Lint0InExtIntModeIsAVirtualWireToThe8259()
    {
        var pic = new FakeExtIntController(0x23);
        _system.ExtIntController = pic;
        _system.ApplyFirmwareDefaults();
        Assert.Equal(0x1FFu, _apic.ReadRegister(LocalApic.RegSvr));
        Assert.Equal(0x700u, _apic.ReadRegister(LocalApic.RegLvtLint0));
        Assert.Equal(0x400u, _apic.ReadRegister(LocalApic.RegLvtLint1));

        Assert.False(_apic.HasPendingInterrupt);
        _apic.Lint0.SetLevel(true);
        Assert.True(_apic.HasPendingInterrupt);
        _apic.WriteRegister(LocalApic.RegTpr, 0xF0); // ExtINT ignores the priorities
        Assert.Equal(0x23, _apic.AcknowledgeInterrupt());
        Assert.Equal(0u, _apic.ReadRegister(LocalApic.RegIsr + 0x10));
        _apic.Lint0.SetLevel(false);
        Assert.False(_apic.HasPendingInterrupt);

        _apic.WriteRegister(LocalApic.RegLvtLint0, 0x10700);
        _apic.Lint0.SetLevel(true);
        Assert.False(_apic.HasPendingInterrupt);
    }

    [Fact]
    public void Lint1InNmiModeRaisesAnNmiOnARisingEdge()
    {
        _system.ApplyFirmwareDefaults();
        _cpus[0].State = RunState.Halted;
        _cpus[0].InterruptsEnabled = false;
        _apic.Lint1.SetLevel(true);
        Assert.True(_apic.NmiPending);
        Assert.Equal(RunState.Running, _cpus[0].State);
        Assert.True(_apic.TakeNmi());
        Assert.False(_apic.TakeNmi());
        _apic.Lint1.SetLevel(true); // no new edge
        Assert.False(_apic.NmiPending);
        _apic.Lint1.SetLevel(false);
        _apic.Lint1.SetLevel(true);
        Assert.True(_apic.TakeNmi());
    }

    [Fact]
    public void Lint0FixedLevelTriggeredUsesRemoteIrr()
    {
        Enable(_apic);
        _apic.WriteRegister(LocalApic.RegLvtLint0, 0x8045); // fixed, level, vector 0x45
        _apic.Lint0.SetLevel(true);
        Assert.Equal(0xC045u, _apic.ReadRegister(LocalApic.RegLvtLint0)); // remote IRR set
        Assert.Equal(0x45, _apic.AcknowledgeInterrupt());
        _apic.WriteRegister(LocalApic.RegEoi, 0);
        // Still asserted: accepted again.
        Assert.True(_apic.IsRequested(0x45));
        _apic.Lint0.SetLevel(false);
        Assert.Equal(0x45, _apic.AcknowledgeInterrupt());
        _apic.WriteRegister(LocalApic.RegEoi, 0);
        Assert.Equal(0x8045u, _apic.ReadRegister(LocalApic.RegLvtLint0));
        Assert.False(_apic.HasPendingInterrupt);
    }

    [Fact]
    public void GloballyDisabledApicPassesLint0AndLint1Through()
    {
        var pic = new FakeExtIntController(0x08);
        _system.ExtIntController = pic;
        Enable(_apic);
        _apic.WriteRegister(LocalApic.RegTpr, 0x20);
        _apic.AcceptFixed(0x40, false);

        _apic.SetGloballyEnabled(false);
        Assert.False(_apic.GloballyEnabled);
        Assert.False(_apic.HasPendingInterrupt);
        Assert.False(_apic.IsRequested(0x40));

        _apic.Lint0.SetLevel(true);
        Assert.True(_apic.HasPendingInterrupt);
        Assert.Equal(0x08, _apic.AcknowledgeInterrupt());
        _apic.Lint1.SetLevel(true);
        Assert.True(_apic.TakeNmi());

        // Messages are not accepted.
        _system.Deliver(new ApicMessage(0x50, DeliveryMode.Fixed, false, 0));
        _system.Deliver(new ApicMessage(0, DeliveryMode.Nmi, false, 0));
        Assert.False(_apic.IsRequested(0x50));
        Assert.False(_apic.NmiPending);

        _apic.SetGloballyEnabled(true);
        Assert.Equal(0xFFu, _apic.ReadRegister(LocalApic.RegSvr));
        Assert.Equal(0u, _apic.ReadRegister(LocalApic.RegTpr));
    }

    [Fact]
    public void WindowRoutesEachCpuToItsOwnApic()
    {
        var ram = new PhysicalMemory(1 << 20);
        var bus = new MemoryBus(ram);
        _system.MapInto(bus);
        const uint Base = PhysicalMap.LocalApicBase;
        Assert.Equal(0u, bus.Read(0, Base + 0x20, 4));
        Assert.Equal(3u << 24, bus.Read(1, Base + 0x20, 4));
        Assert.Equal(3u, bus.Read(1, Base + 0x23, 1));
        Assert.Equal(0u, bus.Read(1, Base + 0x24, 4));
        Assert.Equal(0x0014u, bus.Read(0, Base + 0x30, 2));

        bus.Write(1, Base + 0x80, 4, 0x20);
        Assert.Equal(0u, bus.Read(0, Base + 0x80, 4));
        Assert.Equal(0x20u, bus.Read(1, Base + 0x80, 4));

        bus.Write(1, Base + 0x80, 1, 0x30); // narrow writes are ignored
        bus.Write(1, Base + 0x84, 4, 0x30);
        Assert.Equal(0x20u, bus.Read(1, Base + 0x80, 4));
        Assert.Equal(2, _system.Mmio.IgnoredWrites);

        _system.LocalApics[1].SetGloballyEnabled(false);
        Assert.Equal(0xFFFFFFFFu, bus.Read(1, Base + 0x20, 4));
        Assert.Equal(0u, bus.Read(0, Base + 0x20, 4));
    }
}
