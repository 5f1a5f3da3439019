using Emulator.Cpu;

namespace Emulator.Interrupts;

/// <summary>
/// What the interrupt controllers need from a CPU: its identity and clock, and the INIT, STARTUP
/// and wake-up hooks. <see cref="CpuApicAdapter"/> implements it over <see cref="Emulator.Cpu.Cpu"/>;
/// tests use fakes.
/// </summary>
public interface IApicCpu
{
    /// <summary>The CPU's index in the machine (the cpuId the memory bus passes to MMIO devices).</summary>
    int Id { get; }

    /// <summary>The local APIC ID at power-up (what CPUID.1:EBX[31:24] reports).</summary>
    int ApicId { get; }

    RunState State { get; }

    /// <summary>The CPU's own cycle clock; the local APIC timer counts from it.</summary>
    long Cycles { get; }

    /// <summary>INIT: reset the architectural state and wait for a STARTUP IPI.</summary>
    void ApplyInit();

    /// <summary>STARTUP: start at <paramref name="vector"/> &lt;&lt; 12 in real mode if waiting for one; false when ignored.</summary>
    bool ApplyStartup(int vector);

    /// <summary>
    /// Something the CPU must react to arrived. A halted CPU leaves HLT when
    /// <paramref name="maskable"/> is false (NMI) or when it would take a maskable interrupt
    /// now (EFLAGS.IF = 1).
    /// </summary>
    void Wake(bool maskable);

    /// <summary>Asks a running CPU to leave its current block so it checks for interrupts before the next instruction.</summary>
    void RequestExit();
}
