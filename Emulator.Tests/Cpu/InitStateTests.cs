using Emulator.Cpu;
using Emulator.Platform;

namespace Emulator.Tests.Cpu;

/// <summary>INIT resets the architectural state but leaves the MSRs alone (SDM Vol. 3 9.1); RESET clears them.</summary>
public class InitStateTests
{
    private const uint SysenterCs = 0x174;
    private const uint Pat = 0x277;

    [Fact]
    public void InitKeepsMsrsAndResetsTheRest()
    {
        using var m = new Machine(new MachineConfig { Cpus = 2, MemoryBytes = 16u << 20 });
        var cpu = m.Cpus[1];
        cpu.Msrs[SysenterCs] = 0x10;
        cpu.Msrs[Pat] = 0x0007040600070106UL;
        cpu.Cr0 |= 1;
        cpu.Eax = 0x1234;

        cpu.ApplyInit();

        Assert.Equal(RunState.WaitForSipi, cpu.State);
        Assert.Equal(0x60000010u, cpu.Cr0);
        Assert.Equal(0u, cpu.Eax);
        Assert.Equal(0x10UL, cpu.Msrs[SysenterCs]);
        Assert.Equal(0x0007040600070106UL, cpu.Msrs[Pat]);

        cpu.Reset();
        Assert.Empty(cpu.Msrs);
    }
}
