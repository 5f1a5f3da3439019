using Emulator.Cpu.Segmentation;

namespace Emulator.Cpu;

/// <summary>
/// How the local APIC starts and stops its CPU (SDM Vol. 3, 10.4.7 and 8.4): INIT puts the CPU
/// into wait-for-SIPI (an application processor) with the power-up register state; a STARTUP IPI
/// to a waiting CPU starts it in real mode at vector &lt;&lt; 12; NMI is delivered through vector 2.
/// </summary>
public sealed partial class Cpu
{
    /// <summary>Where NMIs come from (the local APIC); null when none are wired.</summary>
    public INmiSource? Nmi;

    /// <summary>An NMI handler is running: further NMIs wait for the next IRET.</summary>
    public bool NmiBlocked;

    /// <summary>
    /// Set when the CPU starts running again after sleeping (halted, waiting for SIPI): its clock
    /// stood still meanwhile, and the scheduler moves it up to the time of the wake-up.
    /// </summary>
    public bool ClockNeedsSync;

    /// <summary>Told when software changes IA32_APIC_BASE's global enable bit (bit 11).</summary>
    public Action<bool>? ApicEnableChanged;

    /// <summary>
    /// INIT: reset the architectural state and wait for a STARTUP IPI. Clocks and counters are
    /// kept, and so are the MSRs (SDM Vol. 3 9.1: INIT leaves the caches, MSRs and MTRRs unchanged).
    /// </summary>
    public void ApplyInit()
    {
        var msrs = Msrs.ToArray();
        ResetKeepingClock();
        foreach (var (msr, value) in msrs)
        {
            Msrs[msr] = value;
        }

        State = RunState.WaitForSipi;
    }

    /// <summary>
    /// RESET (or, with the MSRs put back, INIT) of a CPU in a running machine: the architectural
    /// state goes to its RESET values while the clock and the instruction count go on.
    /// </summary>
    public void ResetKeepingClock()
    {
        long cycles = Cycles;
        long instructions = Instructions;
        Reset();
        Cycles = cycles;
        Instructions = instructions;
    }

    /// <summary>STARTUP: a CPU in wait-for-SIPI starts at <paramref name="vector"/>:0000 in real mode; otherwise ignored.</summary>
    public bool ApplyStartup(int vector)
    {
        if (State != RunState.WaitForSipi)
        {
            return false;
        }

        Seg(SegReg.CS) = SegmentCache.RealModeData((ushort)(vector << 8));
        Eip = 0;
        State = RunState.Running;
        ClockNeedsSync = true;
        ExitRequested = true;
        BecameRunnable?.Invoke(this);
        return true;
    }

    /// <summary>Wakes a halted CPU (an interrupt or NMI arrived); the scheduler calls it.</summary>
    public void Wake()
    {
        if (State == RunState.Halted)
        {
            State = RunState.Running;
            ClockNeedsSync = true;
            BecameRunnable?.Invoke(this);
        }
    }
}
