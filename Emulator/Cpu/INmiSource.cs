namespace Emulator.Cpu;

/// <summary>
/// Where a CPU takes non-maskable interrupts from (its local APIC). An NMI is not an
/// <see cref="IInterruptSource"/> interrupt: EFLAGS.IF does not block it, it wakes a halted
/// CPU, and the CPU delivers it through vector 2, blocking further NMIs until the next IRET.
/// </summary>
public interface INmiSource
{
    /// <summary>True while an NMI waits to be taken.</summary>
    bool NmiPending { get; }

    /// <summary>Takes the pending NMI; false when there is none.</summary>
    bool TakeNmi();
}
