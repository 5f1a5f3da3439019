using Emulator.Cpu;
using CpuCore = Emulator.Cpu.Cpu;

namespace Emulator.Interrupts;

/// <summary>Connects a local APIC to an <see cref="Emulator.Cpu.Cpu"/>.</summary>
public sealed class CpuApicAdapter(CpuCore cpu) : IApicCpu
{
    public CpuCore Cpu { get; } = cpu;

    public int Id => Cpu.Id;

    public int ApicId => Cpu.ApicId;

    public RunState State => Cpu.State;

    public long Cycles => Cpu.Cycles;

    public void ApplyInit() => Cpu.ApplyInit();

    public bool ApplyStartup(int vector) => Cpu.ApplyStartup(vector);

    public void Wake(bool maskable)
    {
        if (!maskable || (Cpu.GetEflags() & EFlags.IF) != 0)
        {
            Cpu.Wake();
        }
    }

    public void RequestExit() => Cpu.ExitRequested = true;
}
