using Emulator.Cpu;
using Emulator.Interrupts;
using Emulator.Platform;

namespace Emulator.Tests.Interrupts;

public class IpiTests
{
    private readonly FakeApicCpu[] _cpus = FakeApicCpu.Many(4);
    private readonly ApicSystem _system;

    public IpiTests()
    {
        _system = new ApicSystem(new EventQueue(), _cpus);
        foreach (var apic in _system.LocalApics)
        {
            apic.WriteRegister(LocalApic.RegSvr, 0x1FF);
        }
    }

    private LocalApic Apic(int i) => _system.LocalApics[i];

    private void Send(int from, uint low, byte destination = 0)
    {
        Apic(from).WriteRegister(LocalApic.RegIcrHigh, (uint)destination << 24);
        Apic(from).WriteRegister(LocalApic.RegIcrLow, low);
    }

    private bool[] Requested(int vector) => _system.LocalApics.Select(a => a.IsRequested(vector)).ToArray();

    [Fact]
    public void InitPutsTheTargetIntoWaitForSipiAndResetsItsApic()
    {
        Apic(2).WriteRegister(LocalApic.RegTpr, 0x30);
        Apic(2).AcceptFixed(0x80, false);
        Send(0, 0x0000C500, destination: 2); // INIT, level assert
        Assert.Equal(1, _cpus[2].InitCount);
        Assert.Equal(RunState.WaitForSipi, _cpus[2].State);
        Assert.Equal(0, _cpus[1].InitCount);
        Assert.Equal(0xFFu, Apic(2).ReadRegister(LocalApic.RegSvr));
        Assert.Equal(0u, Apic(2).ReadRegister(LocalApic.RegTpr));
        Assert.False(Apic(2).IsRequested(0x80));
        Assert.Equal(2u << 24, Apic(2).ReadRegister(LocalApic.RegId));
    }

    [Fact]
    public void InitLevelDeassertIsANoOp()
    {
        Send(0, 0x000C8500); // INIT, level de-assert, all including self
        Assert.All(_cpus, c => Assert.Equal(0, c.InitCount));
        Assert.Equal(1, _system.InitDeassertCount);
        Assert.Equal(0x1FFu, Apic(1).ReadRegister(LocalApic.RegSvr));
    }

    [Fact]
    public void StartupStartsOnlyAWaitingCpuAndOnlyOnce()
    {
        Send(0, 0x00000699, destination: 1); // STARTUP before INIT: ignored
        Assert.Equal(RunState.Running, _cpus[1].State);
        Assert.Equal(-1, _cpus[1].StartAddress);

        Send(0, 0x000C4500); // INIT to all excluding self
        Assert.Equal(RunState.Running, _cpus[0].State);
        Assert.All(_cpus.Skip(1), c => Assert.Equal(RunState.WaitForSipi, c.State));

        Send(0, 0x00000608, destination: 1);
        Assert.Equal(RunState.Running, _cpus[1].State);
        Assert.Equal(0x8000, _cpus[1].StartAddress);

        Send(0, 0x00000609, destination: 1); // the second STARTUP is ignored
        Assert.Equal(0x8000, _cpus[1].StartAddress);
        Assert.Equal([0x99, 0x08, 0x09], _cpus[1].Startups);

        Send(0, 0x000C0610); // STARTUP to all excluding self: the waiting ones start
        Assert.Equal(0x10000, _cpus[2].StartAddress);
        Assert.Equal(0x10000, _cpus[3].StartAddress);
        Assert.Equal(0x8000, _cpus[1].StartAddress);
        Assert.Empty(_cpus[0].Startups);
    }

    [Fact]
    public void StartupReachesASoftwareDisabledApic()
    {
        Send(0, 0x0000C500, destination: 3);
        Assert.False(Apic(3).SoftwareEnabled);
        Send(0, 0x00000620, destination: 3);
        Assert.Equal(0x20000, _cpus[3].StartAddress);
    }

    [Fact]
    public void ShorthandsSelectTheirDestinations()
    {
        Send(1, 0x000C0040); // all excluding self
        Assert.Equal([true, false, true, true], Requested(0x40));
        Send(1, 0x00080050); // all including self
        Assert.Equal([true, true, true, true], Requested(0x50));
        Send(1, 0x00040060, destination: 3); // self ignores the destination
        Assert.Equal([false, true, false, false], Requested(0x60));
    }

    [Fact]
    public void InvalidShorthandCombinationsAreDropped()
    {
        Send(1, 0x00040500); // INIT to self
        Send(1, 0x00080500); // INIT to all including self
        Assert.All(_cpus, c => Assert.Equal(0, c.InitCount));
    }

    [Fact]
    public void PhysicalDestinationAndBroadcast()
    {
        Send(0, 0x00000041, destination: 2);
        Assert.Equal([false, false, true, false], Requested(0x41));
        Send(0, 0x00000042, destination: 0xFF);
        Assert.Equal([true, true, true, true], Requested(0x42));
        Send(0, 0x00000043, destination: 9);
        Assert.Equal([false, false, false, false], Requested(0x43));
    }

    [Fact]
    public void DeliveryStatusReadsIdleAfterSending()
    {
        Send(0, 0x00000041, destination: 2);
        Assert.Equal(0x41u, Apic(0).ReadRegister(LocalApic.RegIcrLow));
        Assert.Equal(2u << 24, Apic(0).ReadRegister(LocalApic.RegIcrHigh));
        Apic(0).WriteRegister(LocalApic.RegIcrLow, 0x00001041); // bit 12 is read-only
        Assert.Equal(0x41u, Apic(0).ReadRegister(LocalApic.RegIcrLow) & 0x1FFF);
    }

    [Fact]
    public void LogicalFlatDestinationIsABitMask()
    {
        for (int i = 0; i < 4; i++)
        {
            Apic(i).WriteRegister(LocalApic.RegLdr, (1u << i) << 24);
        }

        Send(0, 0x00000841, destination: 0x06);
        Assert.Equal([false, true, true, false], Requested(0x41));
        Send(0, 0x00000842, destination: 0xFF);
        Assert.Equal([true, true, true, true], Requested(0x42));
        Send(0, 0x00000843, destination: 0x10);
        Assert.Equal([false, false, false, false], Requested(0x43));
    }

    [Fact]
    public void LogicalClusterDestinationSelectsAClusterAndMembers()
    {
        uint[] ldrs = [0x11, 0x12, 0x21, 0x22];
        for (int i = 0; i < 4; i++)
        {
            Apic(i).WriteRegister(LocalApic.RegDfr, 0x0FFFFFFF);
            Apic(i).WriteRegister(LocalApic.RegLdr, ldrs[i] << 24);
        }

        Send(0, 0x00000841, destination: 0x13);
        Assert.Equal([true, true, false, false], Requested(0x41));
        Send(0, 0x00000842, destination: 0x22);
        Assert.Equal([false, false, false, true], Requested(0x42));
        Send(0, 0x00000843, destination: 0xF1);
        Assert.Equal([true, false, true, false], Requested(0x43));
        Send(0, 0x00000844, destination: 0x32);
        Assert.Equal([false, false, false, false], Requested(0x44));
    }

    [Fact]
    public void LowestPriorityPicksTheLowestTprThenTheLowestApicId()
    {
        Apic(0).WriteRegister(LocalApic.RegTpr, 0x40);
        Apic(1).WriteRegister(LocalApic.RegTpr, 0x20);
        Apic(2).WriteRegister(LocalApic.RegTpr, 0x20);
        Apic(3).WriteRegister(LocalApic.RegTpr, 0x30);
        Send(0, 0x00000151, destination: 0xFF);
        Assert.Equal([false, true, false, false], Requested(0x51));

        Apic(1).WriteRegister(LocalApic.RegTpr, 0x50);
        Send(0, 0x00000152, destination: 0xFF);
        Assert.Equal([false, false, true, false], Requested(0x52));

        // Software-disabled APICs do not take part.
        Apic(2).WriteRegister(LocalApic.RegSvr, 0xFF);
        Send(0, 0x00000153, destination: 0xFF);
        Assert.Equal([false, false, false, true], Requested(0x53));
    }

    [Fact]
    public void NmiIsPendingUntilTakenAndWakesAHaltedCpu()
    {
        _cpus[3].State = RunState.Halted;
        _cpus[3].InterruptsEnabled = false;
        Send(0, 0x00000400, destination: 3);
        Assert.True(Apic(3).NmiPending);
        Assert.Equal(RunState.Running, _cpus[3].State);
        Assert.False(Apic(3).HasPendingInterrupt);
        Assert.True(Apic(3).TakeNmi());
        Assert.False(Apic(3).NmiPending);
    }

    [Fact]
    public void FixedIpiWakesAndAsksTheTargetToLeaveItsBlock()
    {
        _cpus[2].State = RunState.Halted;
        int exits = _cpus[2].ExitRequests;
        Send(0, 0x00000070, destination: 2);
        Assert.Equal(RunState.Running, _cpus[2].State);
        Assert.True(_cpus[2].ExitRequests > exits);
        Assert.Equal(0x70, Apic(2).AcknowledgeInterrupt());
    }

    [Fact]
    public void ExtIntIpiTakesTheVectorFromThe8259()
    {
        var pic = new FakeExtIntController(0x21);
        _system.ExtIntController = pic;
        Send(0, 0x00000700, destination: 1);
        Assert.True(Apic(1).HasPendingInterrupt);
        Assert.Equal(0x21, Apic(1).AcknowledgeInterrupt());
        Assert.False(Apic(1).HasPendingInterrupt);
        Assert.Equal(1, pic.Acknowledgements);
    }

    [Fact]
    public void SmiIsIgnored()
    {
        Send(0, 0x00000200, destination: 0xFF);
        Assert.All(_system.LocalApics, a => Assert.False(a.HasPendingInterrupt || a.NmiPending));
    }

    [Fact]
    public void AdapterDrivesARealCpu()
    {
        using var h = new Emulator.Tests.Cpu.CpuHarness();
        var cpu = h.Cpu;
        var adapter = new CpuApicAdapter(cpu);
        var system = new ApicSystem(new EventQueue(), [adapter]);
        var apic = system.LocalApics[0];
        Assert.Same(apic, system.ForCpu(cpu.Id));

        cpu.State = RunState.Halted;
        apic.WriteRegister(LocalApic.RegSvr, 0x1FF);
        apic.AcceptFixed(0x40, false); // IF = 0 after RESET: stays halted
        Assert.Equal(RunState.Halted, cpu.State);
        system.Deliver(new ApicMessage(0, DeliveryMode.Nmi, false, 0));
        Assert.Equal(RunState.Running, cpu.State);
        Assert.True(cpu.ExitRequested);

        system.Deliver(new ApicMessage(0, DeliveryMode.Init, false, 0));
        Assert.Equal(RunState.WaitForSipi, cpu.State);
        system.Deliver(new ApicMessage(0x9A, DeliveryMode.Startup, false, 0));
        Assert.Equal(RunState.Running, cpu.State);
        Assert.Equal(0x9A000u, cpu.Seg(Emulator.Cpu.Segmentation.SegReg.CS).Base);
        Assert.Equal(0u, cpu.Eip);
    }
}
